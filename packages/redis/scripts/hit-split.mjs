// A Redis hit, layer by layer (nothing asserted): the same bytes read by a
// bare client GET, by redisStore().get (command port + deadline + entry
// decode) and by herd.fetch with no local tier (core's guard, codec), in
// interleaved rounds on one real redis-server; medians of per-round means.
// Run after `pnpm build`: `node scripts/hit-split.mjs [library] [rounds]`.
import { createHerd } from '@herd/core'
import { startRedis } from '@herd/testing/redis-server'
import { redisBackend, redisStore } from '../dist/index.js'
import { makeClient } from '../test/fixtures/make-client.mjs'

const library = process.argv[2] ?? 'node-redis 5'
const rounds = Number(process.argv[3] ?? 15)
const perRound = 3_000
const server = await startRedis()
const made = await makeClient({ library, topology: 'single' }, { url: server.url, clusterUrls: [], sentinel: { name: '', nodes: [] } })
await made.connect()
const client = made.client
try {
  const herd = createHerd({ ...redisBackend(client, { prefix: 'hs:' }), local: false, ttl: '1h' })
  const value = { id: 7, name: 'Ada Lovelace', roles: ['admin', 'author'], since: new Date(0) }
  await herd.fetch('hot', async () => value)
  const store = redisStore(client, { prefix: 'hs:' })
  const storeOnly = createHerd({ store, local: false, ttl: '1h' })
  const raw = 'hs:{hot}:v'
  const get = library === 'ioredis' ? (k) => client.get(k) : (k) => client.get(k)
  const layers = {
    'bare client GET': () => get(raw),
    'bare GET + JSON.parse': () => get(raw).then((s) => JSON.parse(s.slice(s.indexOf('{')))),
    'redisStore().get': () => store.get('hot'),
    'herd.fetch (local: false)': () => herd.fetch('hot', async () => value),
    'herd.fetch, Store only': () => storeOnly.fetch('hot', async () => value),
  }
  const times = Object.fromEntries(Object.keys(layers).map((k) => [k, []]))
  for (let r = 0; r < rounds; r++) {
    for (const [name, call] of Object.entries(layers)) {
      const t = performance.now()
      for (let i = 0; i < perRound; i++) await call()
      times[name].push(((performance.now() - t) * 1000) / perRound)
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const bare = median(times['bare client GET'])
  console.log(`${library}: a Redis hit, ${rounds} rounds × ${perRound} sequential calls each (median of round means):`)
  for (const [name, xs] of Object.entries(times))
    console.log(`  ${name.padEnd(28)} ${median(xs).toFixed(1).padStart(6)} µs  ${(median(xs) / bare).toFixed(2)}× bare GET`)
  await herd.close()
} finally {
  await made.close()
  await server.stop()
}
