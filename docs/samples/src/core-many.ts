import { createHerd } from '@herd/core'

const herd = createHerd({ ttl: '5m' })

// Rows by key; a key with no row is left out of the Map: "not found".
async function productsByKey(keys: readonly string[], { signal }: { signal: AbortSignal }) {
  const rows = await db.products(keys.map((key) => Number(key.split(':')[1])), { signal })
  return new Map(rows.map((row) => [`product:${row.id}`, row]))
}

// The keys missing everywhere load in one call per 100 keys; every key keeps fetch's guarantees.
const products = await herd.fetchMany(['product:1', 'product:2', 'product:3'], productsByKey, { maxBatch: 100 })
const cached = await herd.getMany(['product:1', 'product:9']) // reads, never loads: [product 1, undefined]

// Single fetches made in the same tick become one fetchMany, as with DataLoader.
const productLoader = herd.batch(productsByKey)
const [first, second] = await Promise.all([productLoader.fetch('product:1'), productLoader.fetch('product:2')])
