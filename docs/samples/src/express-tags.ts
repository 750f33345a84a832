import { herdCache } from '@herd/express'

const productCache = herdCache({ ttl: '5m', tags: ['products'] })
app.get('/products/:id', productCache, async (req, res) => {
  res.set('Cache-Tag', `product:${req.params.id}`) // read by herdCache, taken off before the response leaves
  res.json(await db.product(req.params.id))
})

await productCache.expireTags(['product:42']) // stale in every process: served once more while one run refreshes it
await productCache.deleteTags(['products'])   // every product page gone, in every process
