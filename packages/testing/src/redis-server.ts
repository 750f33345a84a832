// Owned by @herd/redis work: starts real redis-server processes for tests.
export {}
