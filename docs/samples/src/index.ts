// Not a sample: stands in for the adapter package that the @herd/testing sample (testing-conformance.ts) checks.
export { redisBus as myBus, redisLock as myLock, redisStore as myStore } from '@herd/redis'
