import { herdCache } from '@herd/koa'

const productCache = herdCache({ ttl: '5m', tags: ['products'] })
router.get('/products/:id', productCache, async (ctx) => {
  ctx.set('Cache-Tag', `product:${ctx.params.id}`) // read by herdCache, taken off before the response leaves
  ctx.body = await db.product(Number(ctx.params.id))
})

await productCache.expireTags(['product:42']) // stale in every process: served once more while one run refreshes it
await productCache.deleteTags(['products'])   // every product page gone, in every process
