/*
 * herdCache only sees requests that reach it: used after a router that
 * answers them, it caches nothing. Koa keeps its middleware in app.middleware,
 * and @koa/router's and koa-router's middleware carries `.router`, so the
 * first request tells whether a router comes first; the warning is printed
 * once per process.
 */
let warned = false

export function warnIfAfterRouters(app: unknown, middleware: unknown): void {
  if (warned) return
  const stack = (app as { middleware?: unknown[] } | undefined)?.middleware
  if (!Array.isArray(stack)) return
  const at = stack.indexOf(middleware)
  if (at <= 0) return
  const routers = stack.slice(0, at).filter((m) => typeof m === 'function' && (m as { router?: unknown }).router !== undefined)
  if (routers.length === 0) return
  warned = true
  process.emitWarning(
    `herdCache() is used after ${routers.length} router(s): requests a router answers never reach it and are not cached. ` +
      'Use app.use(herdCache(...)) before app.use(router.routes()).',
    { code: 'HERD_CACHE_AFTER_ROUTES' },
  )
}

/** For tests: warn again. */
export function resetOrderWarning(): void {
  warned = false
}
