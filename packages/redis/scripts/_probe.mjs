import { createHerd } from '@herd/core'
import { startRedis } from '@herd/testing/redis-server'
import { RedisMonitor } from '@herd/testing/redis-monitor'
import { redisBackend } from '../dist/index.js'
import { createClient } from 'redis'
const server = await startRedis()
const monitor = await RedisMonitor.open(server.url)
const client = await createClient({ url: server.url }).connect()
const herd = createHerd({ ...redisBackend(client), ttl: 60000 })
const t0 = performance.now()
await herd.ready()
console.log('ready took', (performance.now() - t0).toFixed(2), 'ms')
const echo = (m) => client.sendCommand(['ECHO', m])
console.log('at ready:', (await monitor.take(echo)).map((c) => c.line.slice(18, 110)))
const t1 = performance.now()
await herd.fetch('cold:0', async () => 1)
console.log('cold fetch took', (performance.now() - t1).toFixed(2), 'ms')
console.log('cold fetch:', (await monitor.take(echo)).map((c) => c.line.slice(18, 110)))
const t2 = performance.now()
await herd.fetch('cold:1', async () => 1)
console.log('second cold fetch took', (performance.now() - t2).toFixed(2), 'ms')
await herd.close(); await client.quit(); monitor.close(); await server.stop(); process.exit(0)
