/**
 * Counting what a cache does to Redis, two ways:
 * - MONITOR (@herd/testing/redis-monitor): every command a client sent, by name — the round
 *   trips. Commands run by a Lua script arrive tagged `[0 lua]` and are not
 *   round trips, so they are counted apart.
 * - INFO commandstats: every command the server executed, scripts' inner
 *   calls included, for cross-checking.
 */
import { countByName, RedisMonitor } from '@herd/testing/redis-monitor'
import { createClient } from 'redis'
import { sleep } from './burst.js'

export interface CommandCounts {
  /** Sent by clients (round trips), by lower-case command name. */
  client: Record<string, number>
  /** Run inside Lua scripts, by name. */
  lua: Record<string, number>
}

/**
 * Counts by source over @herd/testing's MONITOR reader. The barrier is an
 * ECHO from a connection of the bench's own, after 50 ms: the contenders talk
 * to Redis on clients of their own, and some send a command without awaiting
 * it (a lock release, a PUBLISH), so an ECHO on another connection alone
 * could overtake it.
 */
export class Monitor {
  private constructor(
    private readonly monitor: RedisMonitor,
    private readonly echo: ReturnType<typeof createClient>,
  ) {}

  static async start(url: string): Promise<Monitor> {
    const echo = await createClient({ url }).connect()
    return new Monitor(await RedisMonitor.open(url), echo)
  }

  /** Counts since the last take(). */
  async take(): Promise<CommandCounts> {
    const commands = await this.monitor.take(async (marker) => {
      await sleep(50)
      await this.echo.sendCommand(['ECHO', marker])
    })
    return { client: countByName(commands.filter((c) => c.source === 'client')), lua: countByName(commands.filter((c) => c.source === 'lua')) }
  }

  async stop(): Promise<void> {
    this.monitor.close()
    await this.echo.quit()
  }
}

export function total(counts: Record<string, number>, except: readonly string[] = []): number {
  let n = 0
  for (const [name, c] of Object.entries(counts)) if (!except.includes(name)) n += c
  return n
}

/** The counting's own commands, left out of every count: INFO (commandstats), MONITOR and the take() barrier's ECHO. */
export const COUNTING_OWN: readonly string[] = ['info', 'monitor', 'echo']

/** `counts` without the commands named in `except` (usually COUNTING_OWN). */
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
