import { herdCache } from '@herd/koa'

herdCache({ ttl: '1m', key: (ctx, url) => (ctx.state.user ? { key: url, user: ctx.state.user.id } : url) })
