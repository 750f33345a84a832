/**
 * One process of the fleet in suite 2. Driven over IPC by the parent:
 * setup → ready, go → done, teardown → closed, exit. Its loader asks the
 * parent's database (one pool of 5 shared by every process) for the row.
 */
import { fileURLToPath } from 'node:url'
import { burst, epochNow } from '../lib/burst.js'
import { byName } from '../contenders/redis.js'
import { diff } from '../lib/redis-count.js'
import type { CacheInstance } from '../contenders/memory.js'

export type ToChild =
  | { type: 'setup'; contender: string; url: string; ttlMs: number; local: boolean }
  | { type: 'go'; at: number; key: string; callers: number }
  /** One caller per key, every key at once (part B: commands per cold key). */
  | { type: 'go-many'; at: number; keys: string[] }
  | { type: 'teardown' }
  | { type: 'exit' }
  | { type: 'result'; id: number; value: unknown }

export type FromChild =
  | { type: 'ready' }
  | { type: 'query'; id: number; key: string }
  | {
      type: 'done'
      latencies: number[]
      resolvedAt: number[]
      errors: number
      firstError?: string
      loads: Array<{ start: number; end: number }>
      stats?: Record<string, number>
    }
  | { type: 'done-many'; errors: number; firstError?: string; stats?: Record<string, number> }
  | { type: 'closed' }
  | { type: 'failed'; message: string }

const send = (message: FromChild) => process.send!(message)

let instance: CacheInstance | undefined
let nextId = 0
const pending = new Map<number, (value: unknown) => void>()
let loads: Array<{ start: number; end: number }> = []

function query(key: string): Promise<unknown> {
  const id = nextId++
  return new Promise((resolve) => {
    pending.set(id, resolve)
    send({ type: 'query', id, key })
  })
}

async function loader(key: string): Promise<unknown> {
  const start = epochNow()
  const value = await query(key)
  loads.push({ start, end: epochNow() })
  return value
}

async function handle(message: ToChild): Promise<void> {
  switch (message.type) {
    case 'result':
      pending.get(message.id)?.(message.value)
      pending.delete(message.id)
      return
    case 'setup':
      instance = await byName(message.contender).create({ url: message.url, ttlMs: message.ttlMs, staleMs: 0, load: loader, local: message.local })
      send({ type: 'ready' })
      return
    case 'go': {
      loads = []
      const wait = message.at - epochNow()
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
      const target = instance!
      let settled = 0
      const debug = process.env.BENCH_DEBUG
        ? setInterval(
            () => console.error(`[child ${process.pid}] settled ${settled}/${message.callers}, loads ${loads.length}, pending queries ${pending.size}`),
            2_000,
          )
        : undefined
      const result = await burst(message.callers, () => target.get(message.key).finally(() => settled++))
      clearInterval(debug)
      send({
        type: 'done',
        latencies: result.latencies,
        resolvedAt: result.resolvedAt,
        errors: result.errors,
        firstError: result.firstError === undefined ? undefined : String((result.firstError as Error)?.stack ?? result.firstError),
        loads,
        stats: target.stats?.(),
      })
      return
    }
    case 'go-many': {
      const wait = message.at - epochNow()
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
      const target = instance!
      const before = target.stats?.()
      const failures = (
        await Promise.all(
          message.keys.map((key) =>
            target.get(key).then(
              () => undefined,
              (error: unknown) => error,
            ),
          ),
        )
      ).filter((e) => e !== undefined)
      send({
        type: 'done-many',
        errors: failures.length,
        stats: before === undefined ? undefined : diff(target.stats!(), before),
        firstError: failures.length > 0 ? String((failures[0] as Error)?.stack ?? failures[0]) : undefined,
      })
      return
    }
    case 'teardown':
      await instance?.close()
      instance = undefined
      send({ type: 'closed' })
      return
    case 'exit':
      process.exit(0)
  }
}

// Only as a child process's entry point, never when imported.
if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  process.on('message', (message: ToChild) => {
    handle(message).catch((error: unknown) => send({ type: 'failed', message: String((error as Error)?.stack ?? error) }))
  })
  // The parent going away ends this process too.
  process.on('disconnect', () => process.exit(0))
}
