import { createHerd } from '@herd/core'
import { redisBus, redisLock, redisStore } from '@herd/redis'

const store = redisStore(redisClient)
const bus = redisBus(redisClient)
createHerd({ store, bus, lock: redisLock(redisClient, { fuse: { store, bus } }) })
