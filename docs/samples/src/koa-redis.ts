import { createHerd } from '@herd/core'
import { herdCache } from '@herd/koa'
import { redisBackend } from '@herd/redis'

const herd = createHerd({ ...redisBackend(redisClient) })
router.get('/products/:id', herdCache({ ttl: '5m', staleWhileRevalidate: '1h', herd }), showProduct)
