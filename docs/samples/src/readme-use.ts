import { createHerd } from '@herd/core'

const herd = createHerd({ ttl: '5m', staleWhileRevalidate: '30s', staleIfError: '1h' })

const user = await herd.fetch(`user:${id}`, ({ signal }) => db.user(id, { signal }), { ttl: '1m' })
await herd.set(key, value)   // write-through with a new fence
await herd.expire(key)       // mark stale everywhere: next read serves stale and refreshes
await herd.delete(key)       // gone everywhere, local tiers included
herd.on('miss', (e) => metrics.increment('cache.miss'))
herd.stats()                 // hit ratio, coalesced ratio, loads, refreshes…
await herd.close()
