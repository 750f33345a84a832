import { herdCache } from '@herd/express'

const productCache = herdCache('5m')
app.get('/products/:id', productCache, handler)

await productCache.delete('/products/42')      // every stored variant of the URL (http and https), in every process
await productCache.expire('/products/42')      // served stale once more while the handler refreshes it
await productCache.delete('/me', { user: 'u1' }) // a per-user entry
