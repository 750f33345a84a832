/**
 * Suite 2 — a stampede across processes. 4 real Node processes × 250
 * callers on one cold key (in processes that have each loaded a key and
 * waited on one before, as a fleet that has been up: see warmUp), against one
 * real redis-server. The database is
 * one pool of 5 connections (20 ms a query) in the parent, shared by every
 * process over IPC, so "loader calls" counts what the fleet really sent it.
 * Wake-up delay: from the moment the first loader call returned (the fill
 * begins) to each caller's result, on one clock (epoch ms, sub-ms).
 */
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { redisReady, startRedis, type RedisServer } from '@herd/testing/redis-server'
import { floorRedis, REDIS_CONTENDERS } from '../contenders/redis.js'
import { epochNow } from '../lib/burst.js'
import { nextMessage, spawnTs, stopChild } from '../lib/children.js'
import { Db, row } from '../lib/db.js'
import { int, ms, ratio } from '../lib/format.js'
import { progress } from '../lib/progress.js'
import type { TargetCheck } from '../lib/report.js'
import { diff, parseCommandStats } from '../lib/redis-count.js'
import { latency, median, pairedRatio, shuffle } from '../lib/stats.js'
import { begin } from '../lib/suite-result.js'
import type { FromChild, ToChild } from './fleet-child.js'
import type { RunOptions, Suite } from './types.js'

const CHILD = fileURLToPath(new URL('./fleet-child.ts', import.meta.url))
const TTL_MS = 60_000

interface Sample {
  loaderCalls: number
  /** Processes that ran the loader at least once. */
  loadingProcesses: number
  p50: number
  p99: number
  /** From the first loader call's return to each caller's result, over every caller. */
  wakeP50: number
  wakeP99: number
  /** Same, over callers in the processes that ran the loader (their fill's own write). */
  loaderProcessWakeP50: number
  /** Same, over callers in processes that did not load themselves (woken by another process's fill). */
  remoteWakeP50: number
  remoteWakeP99: number
  totalMs: number
  errors: number
}

type Done = Extract<FromChild, { type: 'done' }>

const send = (c: ChildProcess, m: ToChild) => c.send(m)

/** Every process creates its `contender` instance on a flushed Redis. */
async function setUp(children: readonly ChildProcess[], server: RedisServer, contender: string): Promise<void> {
  await server.command('FLUSHALL')
  await Promise.all(
    children.map((c) => {
      const ready = nextMessage(c, (m): m is FromChild => m?.type === 'ready', 20_000, `setup of ${contender}`)
      send(c, { type: 'setup', contender, url: server.url, ttlMs: TTL_MS, local: true })
      return ready
    }),
  )
}

async function tearDown(children: readonly ChildProcess[], contender: string): Promise<void> {
  await Promise.all(
    children.map((c) => {
      const closed = nextMessage(c, (m): m is FromChild => m?.type === 'closed', 20_000, `teardown of ${contender}`)
      send(c, { type: 'teardown' })
      return closed
    }),
  )
}

/**
 * Every process fetches its keys at once, one call each: `keys`, the same
 * cold keys in every process, or `keys(i)` for the i-th process. Resolves
 * with each process's report.
 */
async function fetchEverywhere(children: readonly ChildProcess[], contender: string, keys: string[] | ((i: number) => string[])) {
  const goMany = (at: number, i: number): ToChild => ({ type: 'go-many', at, keys: typeof keys === 'function' ? keys(i) : keys })
  const doneMany = (m: FromChild): m is Extract<FromChild, { type: 'done-many' }> => m?.type === 'done-many'
  return (await startEverywhere(children, goMany, doneMany, 120_000, `the ${contender} cold keys`)).replies
}

/** Sends each process `message(at, i)`, all starting `at` (250 ms from now); resolves with `at` and each process's `reply`. */
async function startEverywhere<R extends FromChild>(
  children: readonly ChildProcess[],
  message: (at: number, i: number) => ToChild,
  reply: (m: FromChild) => m is R,
  timeoutMs: number,
  what: string,
): Promise<{ at: number; replies: R[] }> {
  const at = epochNow() + 250
  const replies = await Promise.all(
    children.map((c, i) => {
      const result = nextMessage(c, reply, timeoutMs, what)
      send(c, message(at, i))
      return result
    }),
  )
  return { at, replies }
}

/**
 * A fleet that has been up: every process has loaded a key (one of its own,
 * that no other asks for) and then fetched a key with the others (loaded by
 * one of them and waited for by the rest where the library coordinates), and,
 * before a stampede round, every process has had a burst of `callers` on one
 * key with the others (so callers joining a call under way have run too), so
 * scripts are cached, subscriptions made, startup reads done and every path
 * of the measured round has run in every process: a process runs a path's
 * code slowly the first time (V8 compiles it then), and the round's loader
 * may be any of them. The measured key is cold; the processes are not. The
 * same for every library.
 */
async function warmUp(children: readonly ChildProcess[], contender: string, key: string, callers?: number): Promise<void> {
  await fetchEverywhere(children, contender, (i) => [`${key}:${i}`])
  await fetchEverywhere(children, contender, [key])
  if (callers !== undefined) await burstEverywhere(children, contender, `${key}:burst`, callers)
}

/** Every process fetches `key` from `callers` callers at once (see burst), all starting `at`. Resolves with `at` and each process's report. */
function burstEverywhere(children: readonly ChildProcess[], contender: string, key: string, callers: number): Promise<{ at: number; replies: Done[] }> {
  const done = (m: FromChild): m is Done => m?.type === 'done'
  return startEverywhere(children, (at) => ({ type: 'go', at, key, callers }), done, 60_000, `the ${contender} burst`)
}

async function round(children: ChildProcess[], db: Db, server: RedisServer, contender: string, callers: number, key: string): Promise<Sample> {
  await setUp(children, server, contender)
  await warmUp(children, contender, `${key}:warm`, callers)
  db.reset()
  const { at, replies: done } = await burstEverywhere(children, contender, key, callers)
  await tearDown(children, contender)
  const firstFill = Math.min(...done.flatMap((d) => d.loads.map((l) => l.end)))
  const all = done.flatMap((d) => d.resolvedAt.map((t) => t - firstFill))
  const remote = done.filter((d) => d.loads.length === 0).flatMap((d) => d.resolvedAt.map((t) => t - firstFill))
  const lat = latency(done.flatMap((d) => d.latencies))
  const wake = latency(all)
  const remoteWake = latency(remote)
  const own = latency(done.filter((d) => d.loads.length > 0).flatMap((d) => d.resolvedAt.map((t) => t - firstFill)))
  const errors = done.reduce((n, d) => n + d.errors, 0)
  if (errors > 0) console.error(`\n${contender}: ${errors} callers failed; first: ${done.find((d) => d.firstError)?.firstError}`)
  return {
    loaderCalls: db.queries,
    loadingProcesses: done.filter((d) => d.loads.length > 0).length,
    p50: lat.p50,
    p99: lat.p99,
    wakeP50: wake.p50,
    wakeP99: wake.p99,
    loaderProcessWakeP50: own.p50,
    remoteWakeP50: remoteWake.p50,
    remoteWakeP99: remoteWake.p99,
    totalMs: Math.max(...done.flatMap((d) => d.resolvedAt)) - at,
    errors,
  }
}

/** Part B: what every process missing the same cold keys at once costs Redis. */
interface ColdKeys {
  loaderCalls: number
  /** Commands Redis executed (INFO commandstats: scripts' own included) per key per process, per-process ones apart. */
  perKeyPerProcess: number
  /** Commands a process sends whatever the number of keys (see PER_PROCESS). */
  perProcess: number
  commands: Record<string, number>
  errors: number
  /** The library's own counters over the fetches, summed over the processes (herd's stats(): loads, lock waits, backend errors, fallbacks), where it has them. */
  stats?: Record<string, number>
}

/**
 * Commands that don't scale with the keys: (S)SUBSCRIBE, once per process (per
 * slot on a Cluster) over its life; and MGET, which no library here sends for
 * a key-by-key fetch: it is herd's read of its namespace's tag record (the
 * clear() generation), at most once per process per local-tier ttl.
 */
const PER_PROCESS = /^((s|p)?subscribe|mget)$/

async function coldKeys(
  children: readonly ChildProcess[],
  db: Db,
  server: RedisServer,
  contender: string,
  keyCount: number,
  tag: string,
): Promise<ColdKeys> {
  await setUp(children, server, contender)
  await warmUp(children, contender, `${tag}:warm`)
  const commandStats = async () => parseCommandStats(String(await server.command('INFO', 'commandstats')))
  const before = await commandStats()
  db.reset()
  const done = await fetchEverywhere(
    children,
    contender,
    Array.from({ length: keyCount }, (_, i) => `${tag}:${i}`),
  )
  const commands = diff(await commandStats(), before)
  delete commands.info // the reading itself
  await tearDown(children, contender)
  const errors = done.reduce((n, d) => n + d.errors, 0)
  if (errors > 0) console.error(`\n${contender}: ${errors} cold-key fetches failed; first: ${done.find((d) => d.firstError)?.firstError}`)
  let perKey = 0
  let perProcess = 0
  for (const [name, n] of Object.entries(commands)) {
    if (PER_PROCESS.test(name)) perProcess += n
    else perKey += n
  }
  const counted = done.flatMap((d) => (d.stats === undefined ? [] : [d.stats]))
  const stats = counted.length === 0 ? undefined : sumCounts(counted)
  return { loaderCalls: db.queries, perKeyPerProcess: perKey / (keyCount * children.length), perProcess, commands, errors, stats }
}

function sumCounts(all: readonly Record<string, number>[]): Record<string, number> {
  const sum: Record<string, number> = {}
  for (const counts of all) for (const [name, n] of Object.entries(counts)) sum[name] = (sum[name] ?? 0) + n
  return sum
}

export const fleet: Suite = {
  name: 'fleet',
  aliases: ['2', 'cross-process', 'stampede-fleet'],
  title: '2. Stampede across processes (real Redis)',
  async run(options: RunOptions) {
    const clock = begin(this.name, this.title)
    const rounds = options.rounds ?? (options.smoke ? 1 : 5)
    const processes = 4
    const callers = options.smoke ? 50 : 250
    // Part B: every process misses the same cold keys at once, one caller per key.
    const manyProcesses = 8
    const manyKeys = options.smoke ? 50 : 1_000
    const contenders = REDIS_CONTENDERS.filter((c) => !options.only || options.only.includes(c.name))
    // Part A also runs the floor wherever it runs herd: herd's wake-up is read against it, in the same run.
    const stampeders = contenders.some((c) => c.name === 'herd') ? [...contenders, floorRedis] : contenders
    const configs = stampeders.map((c) => ({ name: c.name, config: c.describe({ ttlMs: TTL_MS, staleMs: 0, local: true }) }))
    const settings = {
      rounds,
      processes,
      callersPerProcess: callers,
      db: { maxConcurrent: 5, queryMs: 20, sharedByEveryProcess: true },
      ttlMs: TTL_MS,
      key: 'cold (FLUSHALL before each round)',
      coldKeys: { processes: manyProcesses, keys: manyKeys, callersPerKey: 1, db: { maxConcurrent: 50, queryMs: 5 } },
    }
    if (!redisReady()) {
      return clock.finish({
        settings,
        contenders: configs,
        tables: [],
        targets: [{ target: 'exactly 1 loader call across the fleet', measured: 'skipped: no redis-server', met: null }],
        notes: [],
        data: {},
        skipped: 'redis-server not found',
      })
    }
    const p = progress(this.name)
    const stampedeDb = new Db({ maxConcurrent: 5, queryMs: 20 })
    // Part B loads thousands of keys (the peers load each once per process): a bigger, quicker pool.
    const manyDb = new Db({ maxConcurrent: 50, queryMs: 5 })
    let db = stampedeDb
    let server: RedisServer | undefined
    const children: ChildProcess[] = []
    const samples: Record<string, Sample[]> = {}
    const cold: Record<string, ColdKeys> = {}
    const spawn = () => {
      const child = spawnTs(CHILD)
      child.on('message', (m: FromChild) => {
        if (m?.type !== 'query') return
        const pool = db
        void pool
          .query(() => row(m.key, pool.queries))
          .then((value) => {
            if (child.connected) child.send({ type: 'result', id: m.id, value } satisfies ToChild)
          })
      })
      children.push(child)
    }
    try {
      server = await startRedis()
      p.step(`starting ${processes} processes`)
      for (let i = 0; i < processes; i++) spawn()
      let n = 0
      for (let r = 0; r < rounds; r++) {
        for (const c of shuffle([...stampeders])) {
          p.step(`round ${r + 1}/${rounds}: ${c.name}`)
          ;(samples[c.name] ??= []).push(await round(children, db, server, c.name, callers, `cold:${n++}`))
        }
      }
      while (children.length < manyProcesses) spawn()
      const fleet = children.slice(0, manyProcesses)
      db = manyDb
      // A smoke run proves part B on herd and on what coordinates nothing, without 8 processes per peer beside other tests.
      const partB = options.smoke ? contenders.filter((c) => c.name === 'herd' || c.name === 'naive cache-aside') : contenders
      for (const c of shuffle([...partB])) {
        p.step(`${manyProcesses} processes × ${manyKeys} cold keys: ${c.name}`)
        cold[c.name] = await coldKeys(fleet, db, server, c.name, manyKeys, `many:${c.name}`)
      }
    } finally {
      await Promise.all(children.map((c) => stopChild(c)))
      await server?.stop()
      p.done()
    }
    const med = (name: string, field: keyof Sample) => median(samples[name]!.map((s) => s[field]))
    const calls = samples.herd?.map((s) => s.loaderCalls) ?? []
    const targets: TargetCheck[] = [
      {
        target: `exactly 1 loader call across ${processes} processes × ${callers} callers (every round)`,
        measured: calls.length ? `${[...new Set(calls)].join(', ')} (rounds: ${calls.length})` : 'not run',
        met: calls.length ? calls.every((c) => c === 1) : null,
      },
    ]
    if (samples.herd) {
      const remote = med('herd', 'remoteWakeP99')
      const floor = samples[floorRedis.name] ? med(floorRedis.name, 'remoteWakeP99') : NaN
      targets.push({
        target: 'wake-up of the other processes after the fill: p99 ≤ 2 ms (on an idle machine)',
        measured: `p50 ${ms(med('herd', 'remoteWakeP50'))}, p99 ${ms(remote)}${Number.isNaN(floor) ? '' : ` (the floor, a bare SET NX + PUBLISH, in the same run: p50 ${ms(med(floorRedis.name, 'remoteWakeP50'))}, p99 ${ms(floor)})`}`,
        met: remote <= 2,
      })
      const peers = contenders.filter((c) => c.name !== 'herd' && samples[c.name])
      if (peers.length > 0) {
        // Round by round (each round runs every library once, in shuffled order): herd's time over each peer's.
        const totals = (name: string) => samples[name]!.map((s) => s.totalMs)
        const against = peers.map((c) => ({ name: c.name, ratio: pairedRatio(totals('herd'), totals(c.name)) }))
        const fastest = against.reduce((a, b) => (a.ratio >= b.ratio ? a : b))
        targets.push({
          target: 'all callers done no later than the fastest peer',
          measured: `${ms(med('herd', 'totalMs'))} vs ${ms(med(fastest.name, 'totalMs'))} (${fastest.name}); herd's time over it round by round: ${ratio(fastest.ratio)}`,
          met: fastest.ratio <= 1,
        })
      }
    }
    if (cold.herd) {
      targets.push(
        {
          target: `${manyProcesses} processes × ${manyKeys} cold keys at once: 1 loader call per key across the fleet`,
          measured: `${int(cold.herd.loaderCalls)} loader calls`,
          met: cold.herd.loaderCalls === manyKeys,
        },
        {
          target: `same: at most 3 Redis commands per key per process (executed, scripts' own included), plus a constant per process`,
          measured: cold.herd.perKeyPerProcess.toFixed(2),
          met: cold.herd.perKeyPerProcess <= 3,
        },
      )
    }
    const top = (commands: Record<string, number>) =>
      Object.entries(commands)
        .sort((a, b) => b[1] - a[1])
        .map(([name, n]) => `${name} ${int(n)}`)
        .join(', ')
    const herdTotal = samples.herd ? med('herd', 'totalMs') : NaN
    return clock.finish({
      settings,
      contenders: configs,
      tables: [
        {
          title: `${processes} processes × ${callers} callers on one cold key, one redis-server, one DB pool of 5 (median of ${rounds} round${rounds > 1 ? 's' : ''})`,
          columns: [
            'library',
            'loader calls',
            'processes that loaded',
            'caller p50',
            'caller p99',
            'wake-up p50',
            'wake-up p99',
            'in the loading process p50',
            'woken by another process p50 / p99',
            'all done',
            'vs herd',
            'errors',
          ],
          rows: stampeders.map((c) => [
            c.name,
            int(med(c.name, 'loaderCalls')),
            `${int(med(c.name, 'loadingProcesses'))} of ${processes}`,
            ms(med(c.name, 'p50')),
            ms(med(c.name, 'p99')),
            ms(med(c.name, 'wakeP50')),
            ms(med(c.name, 'wakeP99')),
            ms(med(c.name, 'loaderProcessWakeP50')),
            Number.isNaN(med(c.name, 'remoteWakeP99'))
              ? '— (every process loaded)'
              : `${ms(med(c.name, 'remoteWakeP50'))} / ${ms(med(c.name, 'remoteWakeP99'))}`,
            ms(med(c.name, 'totalMs')),
            ratio(med(c.name, 'totalMs') / herdTotal),
            int(med(c.name, 'errors')),
          ]),
          notes: [
            'The key is cold, the processes are not: before each round every process loaded a key of its own, then all fetched one other key together, then all fetched a third from as many callers as the round has (as a fleet that has been up: every path has run in every process, callers joining a call under way included), every library alike.',
            "wake-up = from the first loader call returning (the fill starts) to each caller's result, across processes on one clock.",
            '"in the loading process" = callers that shared the process of a loader call: they wait for its write to Redis.',
            '"woken by another process" = callers in processes that never ran the loader: they learned of the fill from Redis (the wake-up that the fill script pushes over pub/sub, carrying the entry).',
            "Bentocache's and cache-manager's stampede protection is per process (in-memory lock / coalescing), so each process loads once.",
            `"${floorRedis.name}" is not a library but the least a pub/sub wake-up costs here: a lock taken with SET NX, the value SET and PUBLISHed in one MULTI, waiters subscribed up front; no fences, timeouts or fallbacks. It is not counted as a peer.`,
          ],
        },
        {
          title: `B. ${manyProcesses} processes × ${manyKeys} cold keys at once, one caller per key: what Redis executed`,
          columns: ['library', 'loader calls', 'commands per key per process', 'per-process commands', 'commands (INFO commandstats)', 'own counts'],
          rows: contenders
            .filter((c) => cold[c.name])
            .map((c) => {
              const r = cold[c.name]!
              const own =
                r.stats === undefined ? '—' : ['lockWaits', 'errors', 'fallbacks'].map((name) => `${name} ${int(r.stats![name] ?? 0)}`).join(', ')
              return [c.name, int(r.loaderCalls), r.perKeyPerProcess.toFixed(2), int(r.perProcess), top(r.commands), own]
            }),
          notes: [
            'Every command Redis executed while the processes fetched, counted by the server (INFO commandstats before and after), the commands Lua scripts run inside Redis included. Each process first loaded a key of its own, then all fetched one key together (scripts cached, subscriptions made), as in a fleet that has been up.',
            '"per-process commands" do not scale with the keys: (S)SUBSCRIBE (once per process, per slot on a Cluster) and herd\'s read of its namespace\'s tag record (an MGET, which herd.ready() makes before the measured calls and a serving process repeats in the background about every half local-tier ttl).',
            '"own counts" = what the library itself counted over these fetches, summed over the processes, where it keeps counts (herd\'s stats(): lock waits, Store or Lock calls that failed or timed out, and the loads made in-process because of them): a load past 1 per key shows up here first.',
            `A library that coordinates nothing sends its GET and SET per key per process, and loads every key in every process (${manyProcesses} loader calls per key); herd loads each key once for the fleet.`,
          ],
        },
      ],
      targets,
      notes: [],
      data: { stampede: samples, coldKeys: cold },
    })
  },
}
