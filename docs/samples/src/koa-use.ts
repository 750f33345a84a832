import Koa from 'koa'
import { herdCache } from '@herd/koa'

const app = new Koa()
app.use(herdCache('30s'))
app.use(async (ctx) => {
  ctx.body = await db.products()        // a string, Buffer, stream or object
})
