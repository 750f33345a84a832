import { createHerd } from '@herd/core'
import { redisBackend } from '@herd/redis'

const herd = createHerd({
  ...redisBackend(redisClient),        // store, lock (fused with the store) and bus; default: in-process only
  local: { maxSize: 10_000, ttl: '5s' },
  ttl: '5m', staleWhileRevalidate: '30s', staleIfError: '1h',
})

const user = await herd.fetch(`user:${id}`, ({ signal }) => db.user(id, { signal }), { ttl: '1m', tags: [`user:${id}`] })
const users = await herd.fetchMany(['user:1', 'user:2'], (keys) => Promise.all(keys.map((k) => db.user(Number(k.split(':')[1]))))) // one call, per-key guarantees
await herd.set(key, value)             // write-through with a new fence
await herd.expire(key)                 // mark stale everywhere: next read serves stale and refreshes
await herd.delete(key)                 // gone everywhere, local tiers included
await herd.expireTags([`user:${id}`]) // stale everywhere, refreshed once fleet-wide; one write per tag
await herd.deleteTags([`user:${id}`]) // gone everywhere
await herd.clear()                     // everything in this herd's namespace
herd.on('miss', (e) => metrics.increment('cache.miss'))
herd.stats()                           // hit ratio, coalesced ratio, loads, refreshes…
await herd.inspect(key)                // what the fleet and this process hold for a key
await herd.close()
