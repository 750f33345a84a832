import type { RedisClientType, RedisClusterType } from 'redis'
import { RedisCommandTimeoutError, RedisUnavailableError } from './errors.js'
import type { Script } from './scripts.js'

/**
 * A node-redis client from `createClient` or `createCluster` (node-redis 5
 * and 6), whatever its modules, scripts, RESP version and type mapping. The
 * user owns it: herd never connects, quits or reconfigures it.
 */
export type RedisClient = Standalone | Cluster | ClusterByShape

/**
 * A cluster from `createCluster()`, by shape: `RedisClusterType<any, …>`
 * refuses every cluster with modules (the default ones included) over a
 * contravariant internal member, so `createCluster(...)` was a TS2345. Its
 * members are node-redis' own, whatever the version and generics.
 */
interface ClusterByShape {
  readonly masters: unknown
  readonly [member: string]: any
}

// `any` generics: any modules, scripts, RESP version and type mapping the user configured.
type Standalone = RedisClientType<any, any, any, any, any>
type Cluster = RedisClusterType<any, any, any, any, any>

interface InFlight {
  readonly deadline: number
  readonly command: string
  readonly reject: (error: unknown) => void
}

export function isCluster(client: RedisClient): client is Cluster {
  return 'masters' in client
}

/**
 * Raw commands through the user's client, each bounded by `timeoutMs`.
 *
 * node-redis' own `timeout` command option only covers a command still
 * waiting to be written, not one Redis received and never answered (a hung
 * or paused server), so every command also races a timer here; the late
 * reply, if any, lands on a settled promise and is dropped. A standalone
 * client that is not ready fails at once instead of queueing behind an
 * outage. On a cluster each command goes to the node of its first key.
 */
export class Commands {
  readonly cluster: boolean
  /** Drops commands queued for a cluster node that is down, so the queue can't grow through an outage. */
  private readonly clusterOptions: { timeout: number }

  constructor(
    readonly client: RedisClient,
    readonly timeoutMs: number,
  ) {
    this.cluster = isCluster(client)
    this.clusterOptions = { timeout: timeoutMs }
  }

  send(key: string | undefined, readonly: boolean, args: string[]): Promise<unknown> {
    let reply: Promise<unknown>
    if (this.cluster) {
      reply = (this.client as Cluster).sendCommand(key, readonly, args, this.clusterOptions)
    } else {
      const client = this.client as Standalone
      if (client.isReady === false) return Promise.reject(new RedisUnavailableError(args[0]!))
      reply = client.sendCommand(args)
    }
    return this.bounded(reply, args[0]!)
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

  private bounded(reply: Promise<unknown>, command: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const entry: InFlight = { deadline: Date.now() + this.timeoutMs, command, reject }
      this.inFlight.add(entry)
      this.sweeper ??= this.startSweeper()
      reply.then(
        (value) => {
          this.inFlight.delete(entry)
          resolve(value)
        },
        (error: unknown) => {
          this.inFlight.delete(entry)
          reject(error)
        },
      )
    })
  }

  private startSweeper(): ReturnType<typeof setInterval> {
    const sweeper = setInterval(
      () => {
        const now = Date.now()
        // Same timeout for all, so deadlines grow in insertion order: stop at the first one still running.
        for (const entry of this.inFlight) {
          if (entry.deadline > now) break
          this.inFlight.delete(entry)
          entry.reject(new RedisCommandTimeoutError(entry.command, this.timeoutMs))
        }
        if (this.inFlight.size === 0) {
          clearInterval(sweeper)
          this.sweeper = undefined
        }
      },
      Math.max(1, Math.ceil(this.timeoutMs / 10)),
    )
    sweeper.unref()
    return sweeper
  }
}

/** `promise`, or a RedisCommandTimeoutError after `ms`; a late settlement is dropped. */
export function bounded<T>(promise: Promise<T>, ms: number, command: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new RedisCommandTimeoutError(command, ms)), ms)
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
