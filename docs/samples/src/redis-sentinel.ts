import { createHerd } from '@herd/core'
import { redisBackend } from '@herd/redis'
import { Redis } from 'ioredis'

const client = new Redis({ sentinels: [{ host: 'sentinel-1', port: 26379 }, { host: 'sentinel-2', port: 26379 }], name: 'mymaster' })
client.on('error', (error) => log.warn(error))
const herd = createHerd({ ...redisBackend(client) })
