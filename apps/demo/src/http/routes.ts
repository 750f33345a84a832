import type { HerdStats } from '@herd/core'
import type { CacheOutcome, Catalog } from '../catalog.js'
import { MAX_BURST } from '../config.js'
import { StatusError } from '../errors.js'
import type { Fleet } from '../fleet/types.js'
import * as check from './validate.js'

export interface ApiRequest {
  params: Record<string, string | undefined>
  body: unknown
}

export interface ApiResponse {
  status: number
  body?: unknown
  /** Sent as `x-cache` by reads through herd.fetch. */
  cache?: CacheOutcome
}

/** One route, mounted the same way on Express and on Koa. */
export interface Route {
  method: 'get' | 'put' | 'post' | 'delete'
  path: string
  /** Query parameters it accepts (checked before any cache sees the request). Default: none. */
  query?: readonly string[]
  /** Whole responses cached by the framework's herdCache() (see RESPONSE_CACHE), one shared entry per URL. */
  responseCache?: boolean
  /** A dashboard control rather than service traffic: left out of requests/s and latency. */
  control?: boolean
  handle(req: ApiRequest): Promise<ApiResponse>
}

const notFound = (what: string): ApiResponse => ({ status: 404, body: { error: `no ${what}` } })

/** herdCache() options of routes with `responseCache` (the herd is the process's own). */
export const RESPONSE_CACHE = { ttl: '30s', staleWhileRevalidate: '5m' } as const

export interface RouteDeps {
  catalog: Catalog
  fleet: Fleet
  herdStats: () => HerdStats
  /** herdCache()'s invalidation: `expire('/api/users/7')` marks that URL's cached responses stale. */
  responses: { expire(url: string): Promise<void> }
}

export function apiRoutes({ catalog, fleet, herdStats, responses }: RouteDeps): Route[] {
  return [
    {
      // herd.fetch in the handler; a missing id is cached too (negative caching).
      method: 'get',
      path: '/api/products/:id',
      async handle({ params }) {
        const productId = check.id(params.id)
        const { value, cache } = await catalog.product(productId)
        return value ? { status: 200, body: value, cache } : { ...notFound(`product ${productId}`), cache }
      },
    },
    {
      // Write-through: herd.set, so the next read has the new value without a query.
      method: 'put',
      path: '/api/products/:id',
      async handle({ params, body }) {
        const productId = check.id(params.id)
        const input = check.body(body)
        const name = check.optional(input.name, (v) => check.text(v, 'name', 100))
        const priceCents = check.optional(input.priceCents, (v) => check.integer(v, 'priceCents', 1, 10_000_000))
        if (name === undefined && priceCents === undefined) throw new StatusError(400, 'give name and/or priceCents')
        const product = await catalog.updateProduct(productId, { name, priceCents })
        return product ? { status: 200, body: product } : notFound(`product ${productId}`)
      },
    },
    {
      // herd.delete: gone from every tier of every process.
      method: 'delete',
      path: '/api/products/:id',
      async handle({ params }) {
        const productId = check.id(params.id)
        return (await catalog.deleteProduct(productId)) ? { status: 204 } : notFound(`product ${productId}`)
      },
    },
    {
      // The hot key: an expensive aggregate behind herd.fetch.
      method: 'get',
      path: '/api/leaderboard',
      async handle() {
        const { value, cache } = await catalog.leaderboard()
        return { status: 200, body: { leaderboard: value }, cache }
      },
    },
    {
      // The same query behind plain cache-aside, for the comparison.
      method: 'get',
      path: '/api/naive/leaderboard',
      async handle() {
        const { value, cache } = await catalog.naiveLeaderboard()
        return { status: 200, body: { leaderboard: value }, cache }
      },
    },
    {
      // herdCache() on the route: the whole response is cached, per URL.
      method: 'get',
      path: '/api/users/:id',
      responseCache: true,
      async handle({ params }) {
        const userId = check.id(params.id)
        const user = await catalog.user(userId)
        return user ? { status: 200, body: user } : notFound(`user ${userId}`)
      },
    },
    {
      // herd.expire: the leaderboard, and the buyer's cached /api/users response, are
      // served stale once while one request refreshes each.
      method: 'post',
      path: '/api/orders',
      async handle({ body }) {
        const input = check.body(body)
        const order = await catalog.placeOrder({
          userId: check.integer(input.userId, 'userId', 1, 2_147_483_647),
          productId: check.integer(input.productId, 'productId', 1, 2_147_483_647),
          quantity: check.integer(input.quantity ?? 1, 'quantity', 1, 100),
        })
        if (!order) return notFound('such user or product')
        await responses.expire(`/api/users/${order.userId}`)
        return { status: 201, body: order }
      },
    },
    {
      method: 'post',
      path: '/api/burst',
      control: true,
      async handle({ body }) {
        const input = check.body(body)
        const result = await fleet.burst({
          protect: check.boolean(input.protect, 'protect'),
          mode: check.oneOf(input.mode ?? 'expired', 'mode', ['expired', 'cold'] as const),
          count: check.integer(input.count ?? 1_000, 'count', 1, MAX_BURST),
        })
        return { status: 200, body: result }
      },
    },
    {
      method: 'get',
      path: '/api/stats',
      control: true,
      async handle() {
        return { status: 200, body: { pid: process.pid, herd: herdStats(), db: await fleet.dbStats() } }
      },
    },
  ]
}
