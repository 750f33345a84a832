import { createHerd, type Herd } from '@herd/core'

// On globalThis so the ESM and CJS builds (and @herd/express next to @herd/koa) share one herd.
const KEY = Symbol.for('@herd/http.default-herd')

/** The in-memory herd every herdCache() without a `herd` option uses, created on first use. */
export function defaultHerd(): Herd {
  const g = globalThis as unknown as Record<symbol, Herd | undefined>
  return (g[KEY] ??= createHerd())
}
