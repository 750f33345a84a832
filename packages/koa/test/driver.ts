import type Koa3 from 'koa'
import type { Context, Next } from 'koa'
import { listen, streamOf, type AppSpec, type BindingDriver, type SuiteReply, type SuiteRequest } from '@herd/testing/http-suite'
import { herdCache, isBackgroundRefresh, type HerdCacheOptions } from '../src/index.js'

function view(ctx: Context): SuiteRequest {
  return { method: ctx.method, url: ctx.originalUrl, headers: ctx.headers, scheme: ctx.protocol, background: isBackgroundRefresh(ctx.req) }
}

function reply(ctx: Context): SuiteReply {
  return {
    status: (code) => void (ctx.status = code),
    set: (name, value) => ctx.set(name, value),
    send: (body) => void (ctx.body = body),
    stream: (chunks, length, end) => {
      ctx.body = streamOf(chunks, end)
      if (length !== undefined) ctx.set('content-length', String(length))
    },
  }
}

/** The behaviour suite's apps on Koa: an error catcher, front middleware, app.use(herdCache), the handler. */
export function koaDriver(name: string, Koa: typeof Koa3): BindingDriver {
  return {
    name,
    trustProxy: true,
    refreshThroughFront: true,
    async serve(spec: AppSpec) {
      const app = new Koa()
      app.silent = true
      app.proxy = spec.trustProxy === true
      app.use(async (ctx: Context, next: Next) => {
        try {
          await next()
        } catch (error) {
          spec.errors?.push((error as Error).message)
          ctx.status = 500
          ctx.body = `handled: ${(error as Error).message}`
        }
      })
      const front = spec.front
      if (front !== undefined) {
        app.use(async (ctx: Context, next: Next) => {
          if (front.refuseBackground !== undefined && isBackgroundRefresh(ctx.req)) {
            ctx.status = front.refuseBackground
            ctx.body = ''
            return
          }
          const v = view(ctx)
          for (const [k, value] of Object.entries(front.early?.(v) ?? {})) ctx.set(k, value)
          if (front.hold !== undefined) await front.hold()
          await next()
          // As koa-session does: after downstream (herdCache included) returned.
          for (const [k, value] of Object.entries(front.late?.(v) ?? {})) ctx.set(k, value)
        })
      }
      const cache = herdCache(spec.options as unknown as HerdCacheOptions)
      app.use(cache)
      app.use(async (ctx: Context) => {
        await spec.handler(view(ctx), reply(ctx))
      })
      return { url: await listen(app.callback()), cache }
    },
  }
}
