/**
 * A loopback HTTP harness for middleware tests: servers on 127.0.0.1 that
 * closeAll() shuts (with the herds they used), a pooled client, and the
 * gates, barriers and polling that keep concurrency tests free of timing.
 * @herd/express and @herd/koa run their suites on it.
 */
import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { Agent, request } from 'undici'
import type { Herd } from '@herd/core'

export { sleep }

const servers: Server[] = []
const herds: Herd[] = []
let agent = new Agent({ connections: 256 })

/** Listens on 127.0.0.1 on a free port; closed by closeAll(). */
export async function listen(handler: RequestListener): Promise<string> {
  const server = createServer(handler)
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

export function track(herd: Herd): Herd {
  herds.push(herd)
  return herd
}

export async function closeAll(): Promise<void> {
  const closing = servers.splice(0).map(
    (server) =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  await Promise.all(closing)
  await Promise.all(herds.splice(0).map((herd) => herd.close()))
  const old = agent
  agent = new Agent({ connections: 256 })
  await old.close()
}

export interface Got {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
  text: string
}

export async function get(
  url: string,
  options: { method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'; headers?: Record<string, string>; body?: string } = {},
): Promise<Got> {
  const res = await request(url, { method: options.method ?? 'GET', headers: options.headers, body: options.body, dispatcher: agent })
  const body = Buffer.from(await res.body.arrayBuffer())
  return { status: res.statusCode, headers: res.headers, body, text: body.toString() }
}

export function times<T>(n: number, fn: (i: number) => T): T[] {
  return Array.from({ length: n }, (_, i) => fn(i))
}

/** Polls until `check` passes or `ms` (a generous bound) runs out. */
export async function eventually<T>(check: () => Promise<T | undefined>, ms = 5_000): Promise<T> {
  const until = Date.now() + ms
  for (;;) {
    const result = await check()
    if (result !== undefined) return result
    if (Date.now() > until) throw new Error('condition not met in time')
    await sleep(25)
  }
}

export function counter(values: Array<string | string[] | undefined>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const v of values) out[String(v)] = (out[String(v)] ?? 0) + 1
  return out
}

/** A gate tests open when they are ready: handlers wait on it (at most `ms`, a generous bound). */
export function gate(): { wait(ms?: number): Promise<void>; open(): void } {
  let open!: () => void
  const opened = new Promise<void>((resolve) => (open = resolve))
  return { wait: (ms = 5_000) => Promise.race([opened, sleep(ms).then(() => undefined)]), open }
}

/** Each caller waits until `n` callers are waiting at once (or `ms` passed): proves they ran side by side. */
export function barrier(n: number, ms = 3_000): () => Promise<void> {
  let count = 0
  const g = gate()
  return () => {
    if (++count >= n) g.open()
    return g.wait(ms)
  }
}
