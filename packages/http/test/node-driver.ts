import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import { listen, streamOf, type AppSpec, type BindingDriver, type SuiteReply, type SuiteRequest } from '@herd/testing/http-suite'
import { herdCacheListener, isBackgroundRefresh, type HttpCacheOptions, type NodeHandler } from '../src/index.js'

function view(req: IncomingMessage): SuiteRequest {
  const encrypted = (req.socket as { encrypted?: boolean } | null)?.encrypted === true
  return {
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    headers: req.headers,
    scheme: encrypted ? 'https' : 'http',
    background: isBackgroundRefresh(req),
  }
}

function reply(res: ServerResponse): SuiteReply {
  return {
    status: (code) => void (res.statusCode = code),
    set: (name, value) => void res.setHeader(name, value),
    send: (body) => void res.end(body),
    stream: (chunks, length, end) => {
      if (length !== undefined) res.setHeader('content-length', String(length))
      streamOf(chunks, end).pipe(res)
    },
  }
}

/** The behaviour suite's apps on plain node:http: a front listener, then herdCacheListener around the handler (which handles its own errors). */
export const nodeDriver: BindingDriver = {
  name: 'node:http',
  trustProxy: false,
  refreshThroughFront: false,
  async serve(spec: AppSpec) {
    const handler: NodeHandler = async (req, res) => {
      try {
        await spec.handler(view(req), reply(res))
      } catch (error) {
        spec.errors?.push((error as Error).message)
        if (res.headersSent) return void res.destroy()
        res.statusCode = 500
        res.end(`handled: ${(error as Error).message}`)
      }
    }
    const cache = herdCacheListener(handler, spec.options as unknown as HttpCacheOptions<IncomingMessage>)
    const front = spec.front
    const listener: RequestListener =
      front === undefined
        ? cache
        : (req, res) => {
            const v = view(req)
            for (const [k, value] of Object.entries(front.early?.(v) ?? {})) res.setHeader(k, value)
            if (front.late !== undefined) {
              const writeHead = res.writeHead as (...args: unknown[]) => ServerResponse
              res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
                for (const [k, value] of Object.entries(front.late!(v) ?? {})) this.setHeader(k, value)
                return writeHead.apply(this, args)
              } as ServerResponse['writeHead']
            }
            if (front.hold === undefined) cache(req, res)
            else void front.hold().then(() => cache(req, res))
          }
    return { url: await listen(listener), cache }
  },
}
