import type { Duration, Herd } from '@herd/core'
import type { NaiveCache } from './backend.js'
import { SQL, type LeaderboardRow, type Order, type Product, type UserProfile } from './db/schema.js'

/** Runs one query through the fleet's database budget, counted under `label`. */
export type Query = <Row>(label: string, sql: string, params?: readonly unknown[]) => Promise<Row[]>

/**
 * What the `x-cache` header says about a read through herd.fetch:
 * MISS: this request ran the query and waited for it; STALE: it was served
 * the previous value while its query refreshes the entry; HIT: it ran no
 * query (a cached value, or one another request was already loading).
 */
export type CacheOutcome = 'HIT' | 'STALE' | 'MISS'
export interface Read<T> {
  value: T
  cache: CacheOutcome
}

/** The key every burst aims at. */
export const HOT_KEY = 'leaderboard'
const LEADERBOARD_TTL_MS = 30_000
const productKey = (id: number) => `product:${id}`

/** How a burst finds the hot key: `expired` is past its ttl (served stale while one refresh runs); `cold` is gone. */
export type BurstMode = 'expired' | 'cold'

export interface Catalog {
  product(id: number): Promise<Read<Product | undefined>>
  leaderboard(): Promise<Read<LeaderboardRow[]>>
  /** The same query behind plain cache-aside: what the leaderboard costs without herd. */
  naiveLeaderboard(): Promise<Read<LeaderboardRow[]>>
  user(id: number): Promise<UserProfile | undefined>
  updateProduct(id: number, patch: { name?: string | undefined; priceCents?: number | undefined }): Promise<Product | undefined>
  deleteProduct(id: number): Promise<boolean>
  placeOrder(order: { userId: number; productId: number; quantity: number }): Promise<Order | undefined>
  /** Step 1 of a burst, on every process: cache a fresh hot key. */
  warmHotKey(): Promise<void>
  /** Step 2, once every process is warm: expire (or drop) it, so the burst meets a just-expired key. */
  expireHotKey(protect: boolean, mode: BurstMode): Promise<void>
}

export function createCatalog({ herd, naive, query }: { herd: Herd; naive: NaiveCache; query: Query }): Catalog {
  async function read<T>(key: string, ttl: Duration, load: () => Promise<T | undefined>): Promise<Read<T | undefined>> {
    // Whether *this* request's loader ran, and whether it had finished when the value came back.
    const ours: { load: 'none' | 'running' | 'done' } = { load: 'none' }
    const value = await herd.fetch<T | undefined>(
      key,
      async () => {
        ours.load = 'running'
        try {
          return await load()
        } finally {
          ours.load = 'done'
        }
      },
      { ttl },
    )
    return { value, cache: ours.load === 'done' ? 'MISS' : ours.load === 'running' ? 'STALE' : 'HIT' }
  }

  const loadLeaderboard = () => query<LeaderboardRow>('leaderboard', SQL.leaderboard)

  return {
    // undefined (no such row) is cached too, for the herd's negativeTtl: a flood of
    // requests for a missing id costs one query, not one each.
    product: (id) => read(productKey(id), '1m', async () => (await query<Product>('product', SQL.product, [id]))[0]),

    leaderboard: async () => {
      const { value, cache } = await read(HOT_KEY, LEADERBOARD_TTL_MS, loadLeaderboard)
      return { value: value ?? [], cache }
    },

    async naiveLeaderboard() {
      const cached = (await naive.get(HOT_KEY)) as LeaderboardRow[] | undefined
      if (cached) return { value: cached, cache: 'HIT' }
      const rows = await loadLeaderboard()
      await naive.set(HOT_KEY, rows, LEADERBOARD_TTL_MS)
      return { value: rows, cache: 'MISS' }
    },

    user: async (id) => (await query<UserProfile>('user', SQL.user, [id]))[0],

    async updateProduct(id, { name, priceCents }) {
      const [product] = await query<Product>('write', SQL.updateProduct, [id, name ?? null, priceCents ?? null])
      if (!product) return undefined
      // Write-through: the next read is a hit with the new value, in every process.
      await herd.set(productKey(id), product, { ttl: '1m' })
      // Names and prices show in the leaderboard: served stale once while it refreshes.
      await herd.expire(HOT_KEY)
      return product
    },

    async deleteProduct(id) {
      const [row] = await query('write', SQL.deleteProduct, [id])
      if (!row) return false
      // Gone everywhere, local tiers included; a load already in flight can't bring it back.
      await herd.delete(productKey(id))
      await herd.expire(HOT_KEY)
      return true
    },

    async placeOrder({ userId, productId, quantity }) {
      const [order] = await query<Order>('write', SQL.placeOrder, [userId, productId, quantity])
      if (order) await herd.expire(HOT_KEY)
      return order
    },

    async warmHotKey() {
      // set(), not fetch(): its new fence keeps a refresh still in flight from an
      // earlier expire() from landing after the burst's own expire().
      await herd.set(HOT_KEY, await loadLeaderboard(), { ttl: LEADERBOARD_TTL_MS })
    },

    async expireHotKey(protect, mode) {
      if (!protect)
        await naive.delete(HOT_KEY) // plain cache-aside has no stale: expired is gone
      else if (mode === 'expired') await herd.expire(HOT_KEY)
      else await herd.delete(HOT_KEY)
    },
  }
}
