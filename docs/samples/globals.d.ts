// What the README samples take as given: the reader's own database, app, router and handlers.
// test/fixtures/globals.ts gives each a working stand-in when the samples run.
import type Router from '@koa/router'
import type { Herd } from '@herd/core'
import type { RequestHandler, Express } from 'express'
import type { Middleware } from 'koa'
import type { createClient } from 'redis'

export interface User {
  id: number
  name: string
}
export interface Product {
  id: number
  name: string
  priceCents: number
}
export interface Row {
  volatile: boolean
}

declare global {
  /** Your data access. */
  const db: {
    user(id: number, options?: { signal?: AbortSignal }): Promise<User | undefined>
    product(id: number | string, options?: { signal?: AbortSignal }): Promise<Product | undefined>
    /** Every product, or those of `ids` (in no particular order; an id without a row is left out). */
    products(ids?: readonly number[], options?: { signal?: AbortSignal }): Promise<Product[]>
    query(sql: string, options?: { signal?: AbortSignal }): Promise<Row | undefined>
  }
  const id: number
  const key: string
  const value: unknown
  const sql: string
  const metrics: { increment(name: string, labels?: Record<string, string>): void }
  const log: { warn(error: unknown): void }
  /** A herd made earlier on the page. */
  const herd: Herd
  /** A connected node-redis client made earlier on the page. */
  const redisClient: ReturnType<typeof createClient>
  /** The Express app (express()) made earlier on the page. */
  const app: Express
  const handler: RequestHandler
  const rateLimit: RequestHandler
  /** A @koa/router Router. */
  const router: Router
  const showProduct: Middleware
  namespace Express {
    interface Request {
      /** Set by your authentication middleware (passport and the like). */
      user?: { id: string }
    }
  }
}
