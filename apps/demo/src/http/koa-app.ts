import { isBackgroundRefresh, type HerdCacheMiddleware } from '@herd/koa'
import { bodyParser } from '@koa/bodyparser'
import Router from '@koa/router'
import Koa, { type Middleware } from 'koa'
import type { Metrics } from '../fleet/metrics.js'
import { errorResponse, isControl, JSON_LIMIT, MAX_URL_LENGTH } from './common.js'
import type { Route } from './routes.js'
import { onlyQuery } from './validate.js'

export interface KoaDeps {
  routes: readonly Route[]
  metrics: Metrics
  /** herdCache() from @herd/koa, for routes with `responseCache`. */
  responseCache: HerdCacheMiddleware
}

/** The same API routes through Koa (no dashboard): one route table, two frameworks. */
export function koaApp({ routes, metrics, responseCache }: KoaDeps): Koa {
  const app = new Koa()
  const router = new Router()

  app.use(async (ctx, next) => {
    ctx.set('x-served-by', String(process.pid))
    const started = performance.now()
    try {
      if (ctx.url.length > MAX_URL_LENGTH) {
        ctx.status = 414
        ctx.body = { error: `URL longer than ${MAX_URL_LENGTH} characters` }
        return
      }
      await next()
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.body = { error: 'no such route' }
        ctx.status = 404 // setting a body on an untouched response makes Koa say 200
      }
    } catch (error) {
      const { status, body } = errorResponse(error)
      ctx.status = status
      ctx.body = body
    } finally {
      if (ctx.path.startsWith('/api/') && !isControl(routes, ctx.path) && !isBackgroundRefresh(ctx.req)) {
        ctx.res.once('finish', () => metrics.record(performance.now() - started))
      }
    }
  })
  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: JSON_LIMIT }))

  for (const route of routes) {
    // The query is checked before herdCache sees the request: junk never becomes a cache key.
    const checkQuery: Middleware = (ctx, next) => {
      onlyQuery(ctx.query, route.query ?? [])
      return next()
    }
    const cache: Middleware[] = route.responseCache ? [responseCache as unknown as Middleware] : []
    router[route.method](route.path, checkQuery, ...cache, async (ctx) => {
      const result = await route.handle({ params: ctx.params, body: ctx.request.body })
      if (result.cache) ctx.set('x-cache', result.cache)
      ctx.status = result.status
      if (result.body !== undefined) ctx.body = result.body
    })
  }
  app.use(router.routes())
  app.use(router.allowedMethods())
  return app
}
