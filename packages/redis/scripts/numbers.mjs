// Numbers for the release note, measured on a real redis-server started here
// (nothing asserted). Run after `pnpm build`: `pnpm --filter @herd/redis numbers`.
//   1. Redis round trips per hit, miss and stale hit (INFO commandstats).
//   2. Shared-tier hit latency (herd with local: false) vs a bare node-redis GET.
//   3. The 4 × 250 cold stampede across real processes: loader calls, caller
//      p50/p99, wake-up delay of the other processes after the holder's write.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createHerd } from '@herd/core'
import { startRedis } from '@herd/testing/redis-server'
import { createClient } from 'redis'
import { redisBackend } from '../dist/index.js'
import { nextMessage } from './child-message.mjs'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const pct = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

const server = await startRedis()
const client = createClient({ url: server.url })
client.on('error', () => {})
await client.connect()
const admin = client.duplicate()
await admin.connect()

/**
 * What Redis executed during `fn`: `calls` from INFO commandstats (which also
 * counts the commands scripts run inside Redis) and `trips`, the commands
 * clients sent (MONITOR lines not tagged "lua"): the round trips.
 */
const monitorLines = []
const monitor = client.duplicate()
await monitor.connect()
await monitor.monitor((line) => monitorLines.push(line))
async function commandsDuring(fn) {
  await admin.sendCommand(['CONFIG', 'RESETSTAT'])
  await sleep(20)
  monitorLines.length = 0
  await fn()
  await sleep(20)
  const sent = monitorLines.filter((l) => !l.includes(' lua]') && !/"(info|config|monitor)"/i.test(l))
  const info = String(await admin.sendCommand(['INFO', 'commandstats']))
  const calls = {}
  for (const [, name, n] of info.matchAll(/cmdstat_(\w+(?:\|\w+)?):calls=(\d+)/g)) {
    if (!/^(info|config|monitor)/.test(name)) calls[name] = Number(n)
  }
  const trips = {}
  for (const l of sent) {
    const name = /"(\w+)"/.exec(l.slice(l.indexOf(']')))?.[1]?.toLowerCase() ?? '?'
    trips[name] = (trips[name] ?? 0) + 1
  }
  return { calls, trips }
}
const sum = (counts) => Object.values(counts).reduce((a, b) => a + b, 0)
const show = ({ calls, trips }) =>
  `${sum(trips)} round trips (${Object.entries(trips)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}); ${sum(calls)} commands in commandstats incl. inside scripts`

try {
  // ---------------------------------------------------------------- 1. round trips
  {
    const herd = createHerd({ ...redisBackend(client, { prefix: 'n1:' }), local: false })
    const loader = async () => ({ id: 1, name: 'Ada' })
    await herd.fetch('warm-scripts', loader) // first use of each script: NOSCRIPT → EVAL once
    const miss = await commandsDuring(() => herd.fetch('user:1', loader))
    await sleep(50) // release and bus publish are fire-and-forget
    const hit = await commandsDuring(() => herd.fetch('user:1', loader))
    await herd.fetch('user:2', loader, { ttl: '100ms', staleWhileRevalidate: '1m', jitter: 0 })
    await sleep(150)
    let servedAfter = 0
    const stale = await commandsDuring(async () => {
      await herd.fetch('user:2', loader, { ttl: '1m', staleWhileRevalidate: '1m', jitter: 0 })
      servedAfter = monitorLines.filter((l) => !l.includes(' lua]')).length
      await sleep(150) // the background refresh
    })
    console.log('Redis round trips per fetch, herd with local: false (after the scripts are cached):')
    console.log(`  hit:        ${show(hit)}`)
    console.log(`  miss:       ${show(miss)}`)
    console.log(`  stale hit:  ${servedAfter} before the caller had the stale value; with the background refresh ${show(stale)}`)
    await herd.close()
  }

  // ---------------------------------------------------------------- 2. hit latency
  {
    const herd = createHerd({ ...redisBackend(client, { prefix: 'n2:' }), local: false })
    const value = { id: 7, name: 'Ada Lovelace', roles: ['admin', 'author'], since: new Date(0) }
    await herd.fetch('hot', async () => value, { ttl: '10m' })
    const rawKey = 'n2:{hot}:v'
    const rounds = 10
    const perRound = 2_000
    const herdTimes = []
    const bareTimes = []
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < perRound; i++) {
        const t = performance.now()
        await client.get(rawKey)
        bareTimes.push(performance.now() - t)
      }
      for (let i = 0; i < perRound; i++) {
        const t = performance.now()
        await herd.fetch('hot', async () => value)
        herdTimes.push(performance.now() - t)
      }
    }
    const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length
    const line = (name, xs) =>
      `  ${name}: mean ${(mean(xs) * 1000).toFixed(0)} µs, p50 ${(pct(xs, 50) * 1000).toFixed(0)} µs, p99 ${(pct(xs, 99) * 1000).toFixed(0)} µs`
    console.log(`Shared-tier hit latency, ${rounds * perRound} sequential calls each, interleaved in ${rounds} rounds:`)
    console.log(line('bare node-redis GET      ', bareTimes))
    console.log(line('herd.fetch (local: false)', herdTimes))
    console.log(`  ratio (p50): ${(pct(herdTimes, 50) / pct(bareTimes, 50)).toFixed(2)}×, (mean): ${(mean(herdTimes) / mean(bareTimes)).toFixed(2)}×`)
    await herd.close()
  }

  // ---------------------------------------------------------------- 3. cold stampede across processes
  {
    const worker = fileURLToPath(new URL('../test/fixtures/herd-worker.mjs', import.meta.url))
    const bundle = fileURLToPath(new URL('../dist/index.js', import.meta.url))
    const prefix = 'n3:'
    const counterKey = `${prefix}loader-calls`
    const children = Array.from({ length: 4 }, () =>
      fork(worker, [JSON.stringify({ bundle, url: server.url, prefix, herd: { lease: '5s' } })], {
        execArgv: [],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    )
    await Promise.all(children.map((c) => nextMessage(c, 'ready')))
    const value = { user: 1 }
    const results = Promise.all(children.map((c) => nextMessage(c, 'fetched')))
    for (const c of children) c.send({ cmd: 'fetch', key: 'user:1', callers: 250, loaderMs: 100, counterKey, value, options: { ttl: '1m' } })
    const fetched = await results
    const outcomes = fetched.flatMap((r) => r.outcomes)
    const holder = fetched.find((r) => r.writes.some((w) => w.accepted))
    const writeAt = holder.writes[0].at
    const wake = fetched.filter((r) => r !== holder).map((r) => Math.min(...r.outcomes.map((o) => o.at)) - writeAt)
    const latencies = outcomes.map((o) => o.ms)
    console.log('Cold stampede, 4 processes × 250 concurrent fetches, loader 100 ms:')
    console.log(`  loader calls: ${await client.get(counterKey)}; callers with the value: ${outcomes.filter((o) => o.ok).length}/1000`)
    console.log(`  caller latency p50 ${pct(latencies, 50).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms`)
    console.log(`  wake-up of the other processes after the holder's write: ${wake.map((d) => d.toFixed(1)).join(' / ')} ms`)
    for (const c of children) c.send({ cmd: 'exit' })
    await Promise.all(children.map((c) => new Promise((resolve) => (c.exitCode !== null ? resolve() : c.once('exit', resolve)))))
  }
} finally {
  await Promise.all([client.close(), admin.close(), monitor.close()])
  await server.stop()
}
