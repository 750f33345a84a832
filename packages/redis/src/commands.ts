import { capped } from './delay.js'
import { RedisCommandTimeoutError } from './errors.js'
import type { CommandPort } from './port/index.js'
import type { Script } from './scripts.js'

interface InFlight {
  readonly deadline: number
  readonly command: string
  readonly reject: (error: unknown) => void
}

const same = (reply: unknown): unknown => reply
const rethrow = (error: unknown): never => {
  throw error
}

/**
 * Raw commands through the user's client (any library, any topology: see
 * port/), each bounded by `timeoutMs`.
 *
 * node-redis' own `timeout` option only covers a command still waiting to
 * be written, and ioredis' `commandTimeout` is the user's to set, not ours:
 * neither covers a command Redis received and never answered (a hung or
 * paused server), so every command also races a deadline here; the late
 * reply, if any, lands on a settled promise and is dropped.
 */
export class Commands {
  readonly cluster: boolean

  constructor(
    readonly port: CommandPort,
    readonly timeoutMs: number,
  ) {
    this.cluster = port.topology === 'cluster'
  }

  send(key: string | undefined, readonly: boolean, args: string[]): Promise<unknown> {
    return this.sendMap(key, readonly, args, same)
  }

  /**
   * `send`, with the reply turned into what the caller wants in the callback
   * that settles the promise: one promise hop fewer on the hit path than
   * chaining a `.then`. A `map` that throws rejects; `mapError` turns the
   * client's error into the one to reject with (or throws it), likewise
   * without a `.catch`.
   */
  sendMap<T>(
    key: string | undefined,
    readonly: boolean,
    args: string[],
    map: (reply: unknown) => T,
    mapError: (error: unknown) => never = rethrow,
  ): Promise<T> {
    let reply: Promise<unknown>
    try {
      reply = this.port.send(key, readonly, args)
    } catch (error) {
      return Promise.reject(error)
    }
    return new Promise<T>((resolve, reject) => {
      const entry: InFlight = { deadline: Date.now() + this.timeoutMs, command: args[0]!, reject }
      this.inFlight.add(entry)
      this.sweeper ??= this.startSweeper()
      reply.then(
        (value) => {
          if (!this.inFlight.delete(entry)) return
          try {
            resolve(map(value))
          } catch (error) {
            reject(error)
          }
        },
        (error: unknown) => {
          this.inFlight.delete(entry)
          try {
            mapError(error)
          } catch (mapped) {
            reject(mapped)
          }
        },
      )
    })
  }

  /** Runs a Lua script by SHA; after NOSCRIPT (SCRIPT FLUSH, restart, failover, a new node) once more as EVAL, which caches it again. */
  async run(script: Script, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args]
    try {
      return await this.send(keys[0], false, ['EVALSHA', script.sha, ...tail])
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      return this.send(keys[0], false, ['EVAL', script.source, ...tail])
    }
  }

  /**
   * Commands in flight, oldest first, and one interval that rejects those past
   * their deadline while any are in flight: cheaper on the hit path than a
   * timer per command. A command times out between timeoutMs and 1.1 × timeoutMs.
   */
  private readonly inFlight = new Set<InFlight>()
  private sweeper: ReturnType<typeof setInterval> | undefined

  private startSweeper(): ReturnType<typeof setInterval> {
    const sweeper = setInterval(
      () => {
        const now = Date.now()
        const late: InFlight[] = []
        // Same timeout for all, so deadlines grow in insertion order: stop at the first one still running.
        for (const entry of this.inFlight) {
          if (entry.deadline > now) break
          late.push(entry)
        }
        if (late.length > 0) setImmediate(() => this.expire(late))
        else if (this.inFlight.size === 0) this.stopSweeper()
      },
      capped(Math.max(1, Math.ceil(this.timeoutMs / 10))),
    )
    sweeper.unref()
    return sweeper
  }

  /**
   * Rejects the commands still unanswered. Timers run before the event loop
   * reads its sockets: in a busy process a reply may be there already,
   * unread, and only a command whose reply didn't come with that read has
   * timed out (a busy client is not a slow Redis).
   */
  private expire(late: readonly InFlight[]): void {
    for (const entry of late) {
      if (this.inFlight.delete(entry)) entry.reject(new RedisCommandTimeoutError(entry.command, this.timeoutMs))
    }
    if (this.inFlight.size === 0) this.stopSweeper()
  }

  private stopSweeper(): void {
    clearInterval(this.sweeper)
    this.sweeper = undefined
  }
}

/** `promise`, or a RedisCommandTimeoutError after `ms`; a late settlement is dropped. */
export function bounded<T>(promise: Promise<T>, ms: number, command: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new RedisCommandTimeoutError(command, ms)), capped(ms))
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}
