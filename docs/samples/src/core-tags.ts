import { createHerd } from '@herd/core'

const herd = createHerd({ namespace: 'shop', ttl: '1h', staleWhileRevalidate: '1m' })

// Tags describe what this call writes: give them on every fetch of the key.
const product = await herd.fetch(`product:${id}`, ({ signal }) => db.product(id, { signal }), { tags: ['products', `product:${id}`] })

await herd.expireTags([`product:${id}`]) // stale in every process: served once more, refreshed once fleet-wide
await herd.deleteTags(['products'])      // gone in every process: the next read waits for one load
await herd.clear()                       // every entry of the 'shop' namespace, gone in every process
