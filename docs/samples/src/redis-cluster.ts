import { createHerd } from '@herd/core'
import { redisBackend } from '@herd/redis'
import { createCluster } from 'redis'

const cluster = createCluster({ rootNodes: [{ url: 'redis://10.0.0.1:6379' }, { url: 'redis://10.0.0.2:6379' }] })
cluster.on('error', (error) => log.warn(error))
await cluster.connect()

const herd = createHerd({ ...redisBackend(cluster, { prefix: 'app:' }) })
