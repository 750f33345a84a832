/**
 * Bentocache 1.6.1: two instances with a memory L1 (serialize: false), a Redis
 * L2 and the Redis bus, each with 250 concurrent getOrSet() on one cold key.
 * In our runs one instance's callers mostly never resolve; with serialize
 * left at its default, or without the bus, every caller resolves.
 *
 *     npx tsx repro/bentocache-serialize-bus.ts noser bus     # stuck
 *     npx tsx repro/bentocache-serialize-bus.ts ser bus       # fine
 *     npx tsx repro/bentocache-serialize-bus.ts noser nobus   # fine
 */
import { startRedis } from '@herd/testing/redis-server'
import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis'
import { burst, sleep } from '../src/lib/burst.js'
const server = await startRedis()
const [serialize, useBus] = [process.argv[2] === 'ser', process.argv[3] !== 'nobus']
let loads = 0
const connection = { host: '127.0.0.1', port: server.port }
const mk = async () => {
  let s = bentostore()
    .useL1Layer(memoryDriver({ maxItems: 10000, serialize }))
    .useL2Layer(redisDriver({ connection }))
  if (useBus) s = s.useBus(redisBusDriver({ connection }))
  const b = new BentoCache({ default: 'c', stores: { c: s } })
  await b.has({ key: 'x' })
  return b
}
const a = await mk(),
  b = await mk()
const settled = [0, 0]
const load = async (k: string) => {
  loads++
  await sleep(20)
  return { k }
}
const t = setTimeout(() => {
  console.log(process.argv.slice(2), 'stuck; loads', loads, settled)
  process.exit(1)
}, 6000)
const r = await Promise.all(
  [a, b].map((c, i) => burst(250, () => c.getOrSet({ key: 'cold', factory: () => load('cold'), ttl: 60000 }).finally(() => settled[i]!++))),
)
clearTimeout(t)
console.log(
  process.argv.slice(2),
  'done',
  loads,
  r.map((x) => [x.errors, Math.round(x.totalMs)]),
)
await a.disconnectAll()
await b.disconnectAll()
await server.stop()
process.exit(0)
