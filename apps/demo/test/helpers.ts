import { request } from 'node:http'
import { parseConfig } from '../src/config.js'
import { startSingle, type Running } from '../src/fleet/single.js'

/** The whole service in this process on free ports: PGlite, in-memory herd, Express and Koa. */
export function startDemo(): Promise<Running> {
  // An empty environment: a developer's DATABASE_URL or REDIS_URL must not leak into the tests.
  return startSingle(parseConfig(['--port', '0'], {}))
}

export interface Answer<T = any> {
  status: number
  headers: { get(name: string): string | undefined }
  body: T
}

/**
 * One request on a connection of its own (no keep-alive), so that behind
 * node:cluster consecutive requests are spread over the workers. JSON bodies
 * are parsed, others returned as text.
 */
export function call<T = any>(url: string, init: { method?: string; json?: unknown; headers?: Record<string, string> } = {}): Promise<Answer<T>> {
  const payload = init.json === undefined ? undefined : JSON.stringify(init.json)
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        agent: false,
        method: init.method ?? (payload === undefined ? 'GET' : 'POST'),
        headers: { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (text += chunk))
        res.once('error', reject)
        res.once('end', () => {
          const isJson = String(res.headers['content-type']).includes('application/json')
          resolve({
            status: res.statusCode!,
            headers: { get: (name) => res.headers[name.toLowerCase()]?.toString() },
            body: isJson && text ? JSON.parse(text) : text,
          })
        })
      },
    )
    req.once('error', reject)
    req.end(payload)
  })
}

export interface Counters {
  /** herd.fetch calls this process served (hits, stale, misses, coalesced). */
  herdRequests: number
  dbTotal: number
  db: Record<string, number>
}

export async function counters(base: string): Promise<Counters> {
  const { body } = await call(`${base}/api/stats`)
  return { herdRequests: body.herd.requests, dbTotal: body.db.total, db: body.db.byLabel }
}
