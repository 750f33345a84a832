// Server commands per cold key per process (nothing asserted): N real
// processes each fetch the same K cold keys at once through `lock.fused`
// (the miss path core takes with redisBackend), on a standalone Redis and on
// a 3-master Cluster started here. Counted on the servers themselves:
//   sent   commands clients sent (MONITOR lines not run by a script): round trips
//   total  every command executed, scripts' own included (INFO commandstats)
// Run after `pnpm build`: `node scripts/fleet-commands.mjs [processes] [keys] [library]`.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { startRedis, startRedisCluster } from '@herd/testing/redis-server'
import { createClient } from 'redis'
import { nextMessage } from './child-message.mjs'

const processes = Number(process.argv[2] ?? 8)
const keyCount = Number(process.argv[3] ?? 1_000)
const library = process.argv[4] ?? 'node-redis 5'
const worker = fileURLToPath(new URL('../test/fixtures/herd-worker.mjs', import.meta.url))
const bundle = fileURLToPath(new URL('../dist/index.js', import.meta.url))

async function nodeClients(urls) {
  return Promise.all(
    urls.map(async (url) => {
      const admin = createClient({ url })
      const monitor = createClient({ url })
      for (const c of [admin, monitor]) c.on('error', () => {})
      await Promise.all([admin.connect(), monitor.connect()])
      return { admin, monitor }
    }),
  )
}

async function measure(topology, urls, endpoints) {
  const nodes = await nodeClients(urls)
  const prefix = `fc${Date.now()}:`
  const children = Array.from({ length: processes }, () =>
    fork(
      worker,
      [
        JSON.stringify({
          bundle,
          target: { library, topology },
          endpoints,
          prefix,
          herd: {},
          commandTimeout: 10_000,
          redis: { fallbackInterval: process.env.FALLBACK ?? '1s' },
        }),
      ],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    ),
  )
  await Promise.all(children.map((c) => nextMessage(c, 'ready')))
  // Warm-up: scripts cached (NOSCRIPT → EVAL once per node), pub/sub connections open; not counted.
  const warm = Array.from({ length: 100 }, (_, i) => `warm:${i}`)
  await Promise.all(
    children.map((c) => {
      const done = nextMessage(c, 'fused')
      c.send({ cmd: 'fused', keys: warm, callers: 1, counterKey: `${prefix}warm`, value: 'w' })
      return done
    }),
  )
  await Promise.all(nodes.map(({ admin }) => admin.sendCommand(['CONFIG', 'RESETSTAT'])))
  const sent = {}
  await Promise.all(
    nodes.map(({ monitor }) =>
      monitor.monitor((line) => {
        if (line.includes(' lua]')) return
        const name = /"(\w+)"/.exec(line.slice(line.indexOf(']')))?.[1]?.toLowerCase() ?? '?'
        if (['info', 'config', 'monitor', 'incr'].includes(name)) return // ours and the test loader's counter
        sent[name] = (sent[name] ?? 0) + 1
      }),
    ),
  )
  const keys = Array.from({ length: keyCount }, (_, i) => `cold:${i}`)
  const counterKey = `${prefix}loads`
  const started = performance.now()
  const results = await Promise.all(
    children.map((c) => {
      const done = nextMessage(c, 'fused')
      c.send({ cmd: 'fused', keys, callers: 1, loaderMs: 20, leaseMs: 30_000, counterKey, value: 'v' })
      return done
    }),
  )
  const ms = performance.now() - started
  await new Promise((r) => setTimeout(r, 200)) // MONITOR lines still in flight
  const total = {}
  for (const { admin } of nodes) {
    const info = String(await admin.sendCommand(['INFO', 'commandstats']))
    for (const [, name, n] of info.matchAll(/cmdstat_(\w+(?:\|\w+)?):calls=(\d+)/g)) {
      if (/^(info|config|monitor)/.test(name)) continue
      total[name] = (total[name] ?? 0) + Number(n)
    }
  }
  // The loaders count their calls with an INCR each: those are the test's, not herd's.
  const loaderCalls = Number((await nodes[0].admin.sendCommand(['GET', counterKey]).catch(() => null)) ?? keyCount)
  total.incr = (total.incr ?? 0) - loaderCalls
  if (total.incr <= 0) delete total.incr
  const outcomes = results.flatMap((r) => r.outcomes)
  const via = {}
  for (const o of outcomes) via[o.via] = (via[o.via] ?? 0) + 1
  const sum = (o) => Object.values(o).reduce((a, b) => a + b, 0)
  const per = (n) => (n / (keyCount * processes)).toFixed(2)
  const list = (o) =>
    Object.entries(o)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')
  console.log(
    `${library}, ${topology}: ${processes} processes × ${keyCount} cold keys at once (${ms.toFixed(0)} ms; loader calls: ${(await nodes[0].admin.sendCommand(['GET', counterKey]).catch(() => null)) ?? 'see cluster'})`,
  )
  console.log(`  callers served by: ${list(via)}; failed: ${outcomes.filter((o) => !o.ok).length} ${outcomes.find((o) => o.error)?.error ?? ''}`)
  console.log(`  sent by clients:  ${per(sum(sent))} per key per process (${sum(sent)}: ${list(sent)})`)
  console.log(`  executed (incl. inside scripts): ${per(sum(total))} per key per process (${sum(total)}: ${list(total)})`)
  for (const c of children) c.send({ cmd: 'exit' })
  await Promise.all(children.map((c) => new Promise((resolve) => (c.exitCode !== null ? resolve() : c.once('exit', resolve)))))
  await Promise.all(nodes.flatMap(({ admin, monitor }) => [admin.close(), monitor.close()]))
}

const server = await startRedis()
const cluster = await startRedisCluster({ masters: 3 })
try {
  const endpoints = { url: server.url, clusterUrls: cluster.rootNodes.map((n) => n.url), sentinel: { name: '', nodes: [] } }
  await measure('single', [server.url], endpoints)
  await measure('cluster', endpoints.clusterUrls, endpoints)
} finally {
  await Promise.all([server.stop(), cluster.stop()])
}
