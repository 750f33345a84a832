import { HerdTimeoutError } from '@herd/core'
import { StatusError } from '../errors.js'
import type { FleetEvent, FleetInfo } from '../fleet/types.js'
import type { Route } from './routes.js'

/** Longer URLs get 414 before any route, cache or database sees them (Node itself answers 431 past 16 KB of headers). */
export const MAX_URL_LENGTH = 2_048
export const JSON_LIMIT = '16kb'

export function isControl(routes: readonly Route[], path: string): boolean {
  return routes.some((route) => route.control && route.path === path)
}

/** Any error → status and a body safe to show: input errors say what was wrong, the rest say nothing internal. */
export function errorResponse(error: unknown): { status: number; body: { error: string } } {
  if (error instanceof StatusError) return { status: error.status, body: { error: error.message } }
  // body parsers' errors: malformed JSON (400), too large (413), unsupported charset (415)
  const status = (error as { status?: unknown } | null)?.status
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, body: { error: (error as Error).message || 'bad request' } }
  }
  if (error instanceof HerdTimeoutError) return { status: 503, body: { error: 'the database took too long; try again' } }
  console.error(error)
  return { status: 500, body: { error: 'internal error' } }
}

/** Server-Sent Events: the fleet's setup first, then every tick and burst until the client goes. */
export function streamEvents(
  info: FleetInfo,
  subscribe: (listener: (event: FleetEvent) => void) => () => void,
  write: (chunk: string) => void,
): () => void {
  const send = (type: string, data: unknown) => write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`)
  send('hello', info)
  return subscribe((event) => send(event.type, event.data))
}

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-store',
  connection: 'keep-alive',
} as const
