import { herdCache } from '@herd/koa'

const productCache = herdCache('5m')
router.get('/products/:id', productCache, showProduct)

await productCache.delete('/products/42')      // every stored variant of the URL (http and https), in every process
await productCache.expire('/products/42')      // served stale once more while downstream refreshes it
await productCache.delete('/me', { user: 'u1' }) // a per-user entry
