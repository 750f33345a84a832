// Not a sample: stands in for the adapter package that the @herd/testing samples (testing-conformance.ts, testing-fused.ts) check.
export { redisBackend as myBackend, redisBus as myBus, redisLock as myLock, redisStore as myStore } from '@herd/redis'
