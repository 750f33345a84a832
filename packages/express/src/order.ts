/*
 * herdCache only sees requests that reach it: mounted with app.use() after
 * the routes, it caches nothing those routes answer. Express keeps its stack
 * inspectable (app._router in 4, app.router in 5), so the first request tells
 * whether routes come before it; the warning is printed once per process.
 */
interface Layer {
  handle?: unknown
  route?: { path?: unknown }
}

let warned = false

function stackOf(app: unknown): Layer[] | undefined {
  const a = app as { _router?: { stack?: Layer[] }; router?: { stack?: Layer[] } } | undefined
  let router = a?._router
  if (router === undefined) {
    try {
      router = a?.router
    } catch {
      // Express 4's app.router is a getter that throws (removed in 4.0).
    }
  }
  return Array.isArray(router?.stack) ? router.stack : undefined
}

export function warnIfAfterRoutes(app: unknown, middleware: unknown): void {
  if (warned) return
  const stack = stackOf(app)
  if (stack === undefined) return
  const at = stack.findIndex((layer) => layer.handle === middleware)
  if (at <= 0) return
  const routes = stack.slice(0, at).filter((layer) => layer.route !== undefined)
  if (routes.length === 0) return
  warned = true
  const paths = routes.slice(0, 3).map((layer) => String(layer.route?.path))
  process.emitWarning(
    `herdCache() is mounted after ${routes.length} route(s) (${paths.join(', ')}${routes.length > 3 ? ', …' : ''}): ` +
      'requests those routes answer never reach it and are not cached. Mount app.use(herdCache(...)) before the routes.',
    { code: 'HERD_CACHE_AFTER_ROUTES' },
  )
}

/** For tests: warn again. */
export function resetOrderWarning(): void {
  warned = false
}
