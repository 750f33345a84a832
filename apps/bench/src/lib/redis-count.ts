/**
 * Counting what a cache does to Redis, two ways:
 * - MONITOR (a raw socket): every command a client sent, by name — the round
 *   trips. Commands run by a Lua script arrive tagged `[0 lua]` and are not
 *   round trips, so they are counted apart.
 * - INFO commandstats: every command the server executed, scripts' inner
 *   calls included, for cross-checking.
 */
import { connect, type Socket } from 'node:net'
import { sleep } from './burst.js'

export interface CommandCounts {
  /** Sent by clients (round trips), by lower-case command name. */
  client: Record<string, number>
  /** Run inside Lua scripts, by name. */
  lua: Record<string, number>
}

export class Monitor {
  private socket: Socket | undefined
  private buffer = ''
  private counts: CommandCounts = { client: {}, lua: {} }

  static async start(port: number, host = '127.0.0.1'): Promise<Monitor> {
    const m = new Monitor()
    await m.open(port, host)
    return m
  }

  private open(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host })
      this.socket = socket
      let ready = false
      socket.setEncoding('utf8')
      socket.once('error', reject)
      socket.on('data', (chunk: string) => {
        this.buffer += chunk
        let nl: number
        while ((nl = this.buffer.indexOf('\r\n')) >= 0) {
          const line = this.buffer.slice(0, nl)
          this.buffer = this.buffer.slice(nl + 2)
          if (!ready) {
            if (line === '+OK') {
              ready = true
              resolve()
            }
            continue
          }
          this.record(line)
        }
      })
      socket.write('MONITOR\r\n')
    })
  }

  private record(line: string): void {
    // +1700000000.123456 [0 127.0.0.1:50000] "get" "key"   or   [0 lua] "set" ...
    const m = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] "([^"]+)"/.exec(line)
    if (!m) return
    const source = m[1] === 'lua' ? this.counts.lua : this.counts.client
    const name = m[2]!.toLowerCase()
    source[name] = (source[name] ?? 0) + 1
  }

  /** Counts since the last take(), after letting in-flight MONITOR lines arrive. */
  async take(): Promise<CommandCounts> {
    await sleep(50)
    const out = this.counts
    this.counts = { client: {}, lua: {} }
    return out
  }

  stop(): void {
    this.socket?.destroy()
  }
}

export function total(counts: Record<string, number>, except: readonly string[] = []): number {
  let n = 0
  for (const [name, c] of Object.entries(counts)) if (!except.includes(name)) n += c
  return n
}

/** `counts` without the commands named in `except` (the counting's own INFO and MONITOR). */
export function omit(counts: Record<string, number>, except: readonly string[]): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([name]) => !except.includes(name)))
}

/** `cmdstat_get:calls=12,...` lines of INFO commandstats → { get: 12, ... }. */
export function parseCommandStats(info: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const line of info.split(/\r?\n/)) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line)
    if (m) out[m[1]!] = Number(m[2])
  }
  return out
}

export function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0)
    if (d > 0) out[k] = d
  }
  return out
}

/** `{ get: 200, set: 100 }`, per 100 → "get 2, set 1": the commands most sent first. */
export function summarize(counts: Record<string, number>, per: number): string {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([name, c]) => `${name} ${Number((c / per).toFixed(2))}`)
    .join(', ')
}
