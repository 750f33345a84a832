import { setMaxListeners } from 'node:events'
import { Agent, request } from 'node:http'

export interface Fired {
  ok: number
  failed: number
  durationMs: number
  /** Ascending, one per request that got an answer. */
  latencies: number[]
  servedBy: Record<string, number>
}

/**
 * `count` concurrent GETs to `url`, each on its own connection, as `count`
 * separate clients would send them. Only loopback URLs: this is a demo's
 * load, never anyone else's. Bounded in count by the caller and in time by
 * `deadlineMs`: whatever hasn't answered by then is aborted and counted failed.
 */
export async function fire(url: string, count: number, deadlineMs: number): Promise<Fired> {
  const target = new URL(url)
  if (target.hostname !== '127.0.0.1' && target.hostname !== 'localhost' && target.hostname !== '[::1]') {
    throw new Error(`bursts go to loopback only, not ${target.hostname}`)
  }
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity })
  const signal = AbortSignal.timeout(deadlineMs)
  setMaxListeners(count + 1, signal) // every request listens to the one deadline
  const latencies: number[] = []
  const servedBy: Record<string, number> = {}
  let ok = 0
  const started = performance.now()

  function one(): Promise<void> {
    return new Promise((resolve) => {
      const sent = performance.now()
      const req = request(target, { agent, signal }, (res) => {
        res.resume() // the body is not needed; reading it lets the socket close
        res.once('end', () => {
          latencies.push(performance.now() - sent)
          if (res.statusCode === 200) ok++
          const pid = String(res.headers['x-served-by'] ?? '?')
          servedBy[pid] = (servedBy[pid] ?? 0) + 1
          resolve()
        })
        res.once('error', () => resolve())
      })
      req.once('error', () => resolve())
      req.end()
    })
  }

  try {
    await Promise.all(Array.from({ length: count }, one))
  } finally {
    agent.destroy()
  }
  latencies.sort((a, b) => a - b)
  return { ok, failed: count - ok, durationMs: performance.now() - started, latencies, servedBy }
}
