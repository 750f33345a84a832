import { createHerd } from '@herd/core'
import { redisBus, redisLock, redisStore } from '@herd/redis'

createHerd({ store: redisStore(redisClient), lock: redisLock(redisClient), bus: redisBus(redisClient) })
