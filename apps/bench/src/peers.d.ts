// Peers without type declarations; the bench uses a few calls of each.
declare module 'apicache' {
  import type { RequestHandler } from 'express'
  interface ApiCache {
    middleware(duration?: string, toggle?: unknown, options?: unknown): RequestHandler
    newInstance(options?: { defaultDuration?: string }): ApiCache
  }
  const apicache: ApiCache
  export default apicache
}

declare module 'koa-cash' {
  import type { Middleware } from 'koa'
  interface KoaCashOptions {
    maxAge?: number
    get(key: string, maxAge: number): Promise<unknown>
    set(key: string, value: object, maxAge: number): Promise<unknown>
  }
  export default function koaCash(options: KoaCashOptions): Middleware
}
