// A hot key expires under load: 1,000 requests miss at once.
// Without protection every one of them runs the query; with herd, one does.
import { createHerd } from '@herd/core'

const CALLERS = 1_000
const QUERY_MS = 50

let queries = 0
async function expensiveQuery() {
  queries++
  await new Promise((resolve) => setTimeout(resolve, QUERY_MS))
  return { id: 42, name: 'best-seller', price: 1999 }
}

async function burst(label, fetchOne) {
  queries = 0
  const started = performance.now()
  const results = await Promise.all(Array.from({ length: CALLERS }, fetchOne))
  const ms = performance.now() - started
  const ok = results.every((r) => r?.id === 42)
  console.log(`${label.padEnd(28)} ${String(queries).padStart(5)} database queries   ${ms.toFixed(0).padStart(4)} ms   every caller served: ${ok}`)
}

console.log(`${CALLERS} concurrent requests for one cold key (query takes ${QUERY_MS} ms)\n`)

const plainCache = new Map()
await burst('naive cache-aside', async () => {
  const hit = plainCache.get('product:42')
  if (hit) return hit
  const value = await expensiveQuery()
  plainCache.set('product:42', value)
  return value
})

const herd = createHerd({ ttl: '5m', staleWhileRevalidate: '1m' })
await burst('herd.fetch', () => herd.fetch('product:42', expensiveQuery))

await herd.expire('product:42')
await burst('herd.fetch, key just expired', () => herd.fetch('product:42', expensiveQuery))
await new Promise((resolve) => setTimeout(resolve, QUERY_MS * 2))
console.log(`\nthe expired key was served stale at once and refreshed by ${queries} background query`)
console.log('stats:', JSON.stringify(herd.stats(), null, 0))
await herd.close()
