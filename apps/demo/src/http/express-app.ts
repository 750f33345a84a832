import type { IncomingMessage, ServerResponse } from 'node:http'
import { isBackgroundRefresh, type HerdCacheMiddleware } from '@herd/express'
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express'
import type { Metrics } from '../fleet/metrics.js'
import type { Fleet } from '../fleet/types.js'
import { CHART_JS, PUBLIC_DIR } from '../paths.js'
import { errorResponse, isControl, JSON_LIMIT, MAX_URL_LENGTH, SSE_HEADERS, streamEvents } from './common.js'
import type { Route } from './routes.js'
import { onlyQuery } from './validate.js'

export interface ExpressDeps {
  routes: readonly Route[]
  metrics: Metrics
  fleet: Fleet
  /** herdCache() from @herd/express, for routes with `responseCache`. */
  responseCache: HerdCacheMiddleware
  /** `GET /metrics`: this process's herd metrics from @herd/otel, in Prometheus' text format. */
  prometheus: (request: IncomingMessage, response: ServerResponse) => void
}

/** The dashboard, its event stream and the API. */
export function expressApp({ routes, metrics, fleet, responseCache, prometheus }: ExpressDeps): express.Express {
  const app = express()
  app.disable('x-powered-by')

  app.use((req, res, next) => {
    res.setHeader('x-served-by', String(process.pid))
    // herdCache's background refreshes replay a request through the app: not traffic.
    if (req.path.startsWith('/api/') && !isControl(routes, req.path) && !isBackgroundRefresh(req)) {
      const started = performance.now()
      res.once('finish', () => metrics.record(performance.now() - started))
    }
    if (req.url.length > MAX_URL_LENGTH) return void res.status(414).json({ error: `URL longer than ${MAX_URL_LENGTH} characters` })
    next()
  })
  app.use(express.json({ limit: JSON_LIMIT }))

  for (const route of routes) {
    const checkQuery: RequestHandler = (req, _res, next) => {
      onlyQuery(req.query as Record<string, unknown>, route.query ?? [])
      next()
    }
    const cache: RequestHandler[] = route.responseCache ? [responseCache as RequestHandler] : []
    // The query is checked before herdCache sees the request: junk never becomes a cache key.
    app[route.method](route.path, checkQuery, ...cache, async (req: Request, res: Response) => {
      const result = await route.handle({ params: req.params as Record<string, string>, body: req.body })
      if (result.cache) res.setHeader('x-cache', result.cache)
      if (result.body === undefined) res.status(result.status).end()
      else res.status(result.status).json(result.body)
    })
  }
  app.use('/api', (_req, res) => void res.status(404).json({ error: 'no such route' }))

  app.get('/events', (req, res) => {
    res.writeHead(200, SSE_HEADERS)
    const unsubscribe = streamEvents(fleet.info, fleet.subscribe, (chunk) => res.write(chunk))
    req.once('close', unsubscribe)
  })
  app.get('/metrics', (req, res) => prometheus(req, res))
  app.get('/vendor/chart.umd.min.js', (_req, res) => res.sendFile(CHART_JS, { dotfiles: 'allow' })) // pnpm keeps it under node_modules/.pnpm
  app.use(express.static(PUBLIC_DIR))

  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const { status, body } = errorResponse(error)
    res.status(status).json(body)
  })
  return app
}
