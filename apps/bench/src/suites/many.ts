/**
 * Suite 8 — many keys at once, as a feed or a list page hydrates ids.
 * A. 100 cold keys in one process, over a database that answers a query of
 *    any size in 5 ms and runs at most 5 at once: herd's fetchMany, one
 *    herd fetch per key, herd.batch (DataLoader-style), cachified's
 *    createBatch and cachified per key. Loader calls (queries) and time.
 * B. The same 100 keys once all are cached: time per 100 keys.
 * C. On a real redis-server, herd with redisBackend: fetchMany against one
 *    fetch per key and herd.batch, with the Redis commands each sends.
 *
 * Every contender does the same work in the same run; rounds interleave
 * the contenders in a shuffled order, and medians are reported.
 */
import { redisReady, startRedis, type RedisServer } from '@herd/testing/redis-server'
import { BATCH_WINDOW, IN_PROCESS_MANY, herdManyOnRedis, type ManyContender, type ManySetup } from '../contenders/many.js'
import { Db, row } from '../lib/db.js'
import { int, ms, opsPerSec, ratio, us } from '../lib/format.js'
import { progress, type Progress } from '../lib/progress.js'
import { COUNTING_OWN, Monitor, diff, omit, parseCommandStats, summarize, total } from '../lib/redis-count.js'
import type { Table, TargetCheck } from '../lib/report.js'
import { median, shuffle } from '../lib/stats.js'
import { begin } from '../lib/suite-result.js'
import { measure, type Runner } from '../lib/throughput.js'
import type { RunOptions, Suite } from './types.js'

const KEYS = 100
const TTL_MS = 3_600_000
/** Suite 1's pool, with a query that costs the same whatever the number of rows it returns. */
const DB = { maxConcurrent: 5, queryMs: 5 }
const FETCH_MANY = 'herd fetchMany'

export interface ColdSample {
  /** Queries that reached the database: loader calls. */
  loaderCalls: number
  /** Rows those queries returned: more than the keys means a key was loaded twice. */
  keysLoaded: number
  /** From the call to every value back. */
  totalMs: number
  /** Keys that failed or came back with another key's value. */
  errors: number
}

let run = 0
/** Keys no contender has seen: each sample is cold, even on the one Redis every contender shares. */
function freshKeys(n: number): string[] {
  const prefix = `m${++run}`
  return Array.from({ length: n }, (_, i) => `${prefix}:user:${i}`)
}

/** The setup every contender gets: loaders over `db` that count the rows they return. */
function setupOver(db: Db, counter: { rows: number }): ManySetup {
  return {
    ttlMs: TTL_MS,
    loadMany: (keys) => {
      counter.rows += keys.length
      return db.query(() => keys.map((k) => row(k, 1)))
    },
    load: (key) => {
      counter.rows++
      return db.query(() => row(key, 1))
    },
  }
}

/** Keys whose value is not their own row (a missing value counts). */
function wrongValues(keys: readonly string[], values: readonly unknown[]): number {
  return keys.filter((k, i) => (values[i] as { id?: unknown } | undefined)?.id !== k).length
}

export async function coldOnce(contender: ManyContender, n: number): Promise<ColdSample> {
  const db = new Db(DB)
  const counter = { rows: 0 }
  const instance = await contender.create(setupOver(db, counter))
  try {
    // One call outside the clock, as in a running app: connections, subscriptions, the instance's first shapes.
    await instance.getAll(freshKeys(1))
    db.reset()
    counter.rows = 0
    const keys = freshKeys(n)
    const t0 = performance.now()
    let values: unknown[] | undefined
    try {
      values = await instance.getAll(keys)
    } catch {
      values = undefined
    }
    const totalMs = performance.now() - t0
    return { loaderCalls: db.queries, keysLoaded: counter.rows, totalMs, errors: values ? wrongValues(keys, values) : n }
  } finally {
    await instance.close()
  }
}

/** Cold samples per contender: an optional discarded warm-up round each, then `rounds` interleaved rounds. */
async function coldRounds(contenders: readonly ManyContender[], rounds: number, warmUp: boolean, p: Progress, label: string) {
  const samples: Record<string, ColdSample[]> = {}
  if (warmUp) {
    for (const c of contenders) {
      p.step(`${label}: warm-up ${c.name}`)
      await coldOnce(c, KEYS)
    }
  }
  for (let r = 0; r < rounds; r++) {
    for (const c of shuffle([...contenders])) {
      p.step(`${label}: round ${r + 1}/${rounds} ${c.name}`)
      ;(samples[c.name] ??= []).push(await coldOnce(c, KEYS))
    }
  }
  return samples
}

function coldTable(title: string, contenders: readonly ManyContender[], samples: Record<string, ColdSample[]>, extra: string[] = []): Table {
  const med = (name: string, field: keyof ColdSample) => median(samples[name]!.map((s) => s[field]))
  const base = samples[FETCH_MANY] ? med(FETCH_MANY, 'totalMs') : NaN
  return {
    title,
    columns: ['way', 'loader calls (DB queries)', 'keys loaded', 'all done', 'time per key', 'vs herd fetchMany', 'errors'],
    rows: contenders.map((c) => [
      c.name,
      int(med(c.name, 'loaderCalls')),
      int(med(c.name, 'keysLoaded')),
      ms(med(c.name, 'totalMs')),
      us(med(c.name, 'totalMs') / KEYS),
      ratio(med(c.name, 'totalMs') / base),
      int(med(c.name, 'errors')),
    ]),
    notes: [
      `A query takes ${DB.queryMs} ms whatever its number of rows, at most ${DB.maxConcurrent} at once, the rest queued: ${KEYS} single-row queries cost ${KEYS / DB.maxConcurrent} pool rounds.`,
      '"vs herd fetchMany" > 1 means slower than herd fetchMany.',
      ...extra,
    ],
  }
}

function loaderCallTarget(target: string, samples: ColdSample[] | undefined): TargetCheck {
  const calls = samples?.map((s) => s.loaderCalls) ?? []
  return {
    target,
    measured: calls.length ? `${[...new Set(calls)].join(', ')} (rounds: ${calls.length})` : 'not run',
    met: calls.length ? calls.every((c) => c === 1) && samples!.every((s) => s.errors === 0) : null,
  }
}

/** B: every contender on the same 100 warm keys; a loader call is a bug of the benchmark, so it throws. */
async function hits(contenders: readonly ManyContender[], options: RunOptions, rounds: number, p: Progress) {
  const keys = freshKeys(KEYS)
  const instances: Array<{ close(): Promise<void> }> = []
  const runners: Runner[] = []
  try {
    for (const c of contenders) {
      let armed = false
      const db = new Db({ maxConcurrent: DB.maxConcurrent, queryMs: 0 })
      const setup = setupOver(db, { rows: 0 })
      const guard = <A extends unknown[], R>(load: (...args: A) => R) => {
        return (...args: A): R => {
          if (armed) throw new Error(`many keys, hits: ${c.name} called its loader; every key should be cached`)
          return load(...args)
        }
      }
      const instance = await c.create({ ...setup, loadMany: guard(setup.loadMany), load: guard(setup.load) })
      instances.push(instance)
      const filled = await instance.getAll(keys)
      if (wrongValues(keys, filled) > 0) throw new Error(`many keys, hits: ${c.name} returned wrong values on the fill`)
      armed = true
      runners.push({
        name: c.name,
        async run(n) {
          for (let i = 0; i < n; i++) await instance.getAll(keys)
        },
      })
    }
    return await measure(runners, rounds, options.smoke ? 20 : 250, p, 'hits', 10)
  } finally {
    for (const i of instances) await i.close()
  }
}

interface CommandRow {
  name: string
  loaderCalls: number
  client: number
  server: number
  sends: string
}

/** C's counts: one cold call per contender with MONITOR on, apart from the timed rounds (MONITOR slows Redis). */
async function countCommands(server: RedisServer, contenders: readonly ManyContender[], p: Progress): Promise<CommandRow[]> {
  const monitor = await Monitor.start(server.url)
  const stats = async () => parseCommandStats(String(await server.command('INFO', 'commandstats')))
  const except = COUNTING_OWN
  const rows: CommandRow[] = []
  try {
    for (const c of contenders) {
      p.step(`redis commands: ${c.name}`)
      const db = new Db(DB)
      const instance = await c.create(setupOver(db, { rows: 0 }))
      try {
        await instance.getAll(freshKeys(1))
        db.reset()
        await monitor.take()
        const before = await stats()
        await instance.getAll(freshKeys(KEYS))
        const sent = await monitor.take()
        const ran = diff(await stats(), before)
        const sentCounts = omit(sent.client, except)
        rows.push({ name: c.name, loaderCalls: db.queries, client: total(sentCounts), server: total(ran, except), sends: summarize(sentCounts, 1) })
      } finally {
        await instance.close()
      }
    }
  } finally {
    await monitor.stop()
  }
  return rows
}

export const many: Suite = {
  name: 'many',
  aliases: ['8', 'batch', 'fetchmany'],
  title: '8. Many keys at once: fetchMany, batches',
  async run(options: RunOptions) {
    const clock = begin(this.name, this.title)
    const rounds = options.rounds ?? (options.smoke ? 1 : 9)
    const hitRounds = options.rounds ?? (options.smoke ? 1 : 7)
    const pick = (list: readonly ManyContender[]) => list.filter((c) => !options.only || options.only.includes(c.library))
    const contenders = pick(IN_PROCESS_MANY)
    const p = progress(this.name)
    const tables: Table[] = []
    const targets: TargetCheck[] = []
    const notes: string[] = []
    const configs = contenders.map((c) => ({ name: c.name, config: c.describe(TTL_MS) }))
    const of = (n: number) => `median of ${n} round${n > 1 ? 's' : ''}`

    const cold = await coldRounds(contenders, rounds, !options.smoke, p, 'cold')
    tables.push(
      coldTable(
        `A. ${KEYS} cold keys in one process (DB: ${DB.maxConcurrent} connections, ${DB.queryMs} ms a query of any size; ${of(rounds)})`,
        contenders,
        cold,
        [
          `All ${KEYS} keys are requested in one synchronous loop, as a handler hydrating a list does; herd batch waits its ${BATCH_WINDOW} window before its one query.`,
        ],
      ),
    )
    targets.push(loaderCallTarget(`fetchMany: 1 loader call for ${KEYS} cold keys (every round)`, cold[FETCH_MANY]))
    targets.push(loaderCallTarget(`herd.batch: 1 loader call for ${KEYS} parallel batch.fetch calls (every round)`, cold['herd batch']))

    const hitOps = await hits(contenders, options, hitRounds, p)
    const ops = (name: string) => median(hitOps[name]!)
    const hitBase = hitOps[FETCH_MANY] ? ops(FETCH_MANY) : NaN
    tables.push({
      title: `B. The same ${KEYS} keys, all cached (${of(hitRounds)})`,
      columns: ['way', `${KEYS} keys per second`, `time per ${KEYS} keys`, 'time per key', 'vs herd fetchMany'],
      rows: contenders.map((c) => [c.name, opsPerSec(ops(c.name)), ms(1000 / ops(c.name)), us(1000 / ops(c.name) / KEYS), ratio(hitBase / ops(c.name))]),
      notes: [
        'Sequential awaits of one call for all the keys; herd answers from its local tier, cachified from lru-cache. No loader runs (a loader call fails the suite).',
        '"vs herd fetchMany" > 1 means slower than herd fetchMany.',
      ],
    })

    const redisData: { cold?: Record<string, ColdSample[]>; commands?: CommandRow[] } = {}
    if (!redisReady()) {
      notes.push('C skipped: redis-server not found (set HERD_REQUIRE_REDIS=1 to make that an error).')
      targets.push({ target: `fetchMany on Redis: 1 loader call for ${KEYS} cold keys`, measured: 'skipped: no redis-server', met: null })
    } else if (!options.only || options.only.includes('herd')) {
      let server: RedisServer | undefined
      try {
        server = await startRedis()
        const onRedis = herdManyOnRedis(server.url)
        redisData.cold = await coldRounds(onRedis, rounds, !options.smoke, p, 'redis')
        redisData.commands = await countCommands(server, onRedis, p)
        const commands = new Map(redisData.commands.map((t) => [t.name, t]))
        const table = coldTable(`C. ${KEYS} cold keys, herd on a real redis-server (same DB; ${of(rounds)})`, onRedis, redisData.cold, [
          'commands sent: what the client sent for the whole call (MONITOR), lock releases and PUBLISHes included; node-redis pipelines the commands issued together, so they are fewer network round trips than commands. server cmds: INFO commandstats, which also counts the commands Lua scripts run. Both counted on one call apart from the timed rounds (MONITOR slows Redis).',
        ])
        table.columns.push('commands sent', 'server cmds', 'sent, by name')
        table.rows.forEach((r, i) => {
          const t = commands.get(onRedis[i]!.name)
          r.push(t ? int(t.client) : '–', t ? int(t.server) : '–', t?.sends || '—')
        })
        tables.push(table)
        targets.push(loaderCallTarget(`fetchMany on Redis: 1 loader call for ${KEYS} cold keys (every round)`, redisData.cold[FETCH_MANY]))
        configs.push(...onRedis.map((c) => ({ name: `${c.name} (Redis, C)`, config: c.describe(TTL_MS) })))
      } finally {
        await server?.stop()
      }
    }
    p.done()
    return clock.finish({
      settings: {
        rounds,
        hitRounds,
        keys: KEYS,
        db: DB,
        ttlMs: TTL_MS,
        batchWindow: BATCH_WINDOW,
        arrival: 'every key requested in one synchronous loop (one call, or Promise.all of one call per key)',
      },
      contenders: configs,
      tables,
      targets,
      notes,
      data: { cold, hits: hitOps, redis: redisData },
    })
  },
}
