// Where a fleet wake-up spends its time (nothing asserted). 4 real
// processes × 250 callers on one cold key, one real redis-server; every step
// is timestamped on one clock (epoch ms, sub-ms) in the process where it
// happens, relative to the holder's loader returning:
//   plain  the herd as core drives it today (Store.set, then release, then a waiter's GET)
//          holder: Store.set sent / answered → release sent
//          waiter: wake message seen by a spy connection → wait resolved → GET sent / answered → first caller served
//   fused  lock.fused as core will drive it (test/fixtures/herd-worker.mjs)
//          holder: fill sent / answered; waiter: wait resolved (with the entry) → first caller served
// Run after `pnpm build`: `node scripts/wake-profile.mjs [plain|fused] [rounds] [bundle]`.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const role = process.argv[2]
const now = () => performance.timeOrigin + performance.now()
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]

if (role === 'child') {
  const { createHerd } = await import('@herd/core')
  const { createClient } = await import('redis')
  const config = JSON.parse(process.argv[3])
  const { redisBackend } = await import(config.bundle)
  const client = createClient({ url: config.url })
  client.on('error', () => {})
  await client.connect()
  // A spy on its own connection: when Redis' wake-up message reached this process.
  const spy = client.duplicate()
  await spy.connect()
  let marks = {}
  const mark = (name) => (marks[name] ??= now())
  await spy.pSubscribe(`${config.prefix}*`, () => mark('spy: wake message'))
  const backend = redisBackend(client, { prefix: config.prefix })
  const wrap = (target, name, before, after) => {
    const original = target[name].bind(target)
    target[name] = (...args) => {
      mark(before)
      return original(...args).then((r) => {
        mark(after)
        return r
      })
    }
  }
  wrap(backend.store, 'set', 'Store.set sent', 'Store.set answered')
  wrap(backend.lock, 'release', 'release sent', 'release answered')
  wrap(backend.lock, 'wait', 'wait started', 'wait resolved')
  const get = backend.store.get.bind(backend.store)
  backend.store.get = (key) => {
    const waited = marks['wait resolved'] !== undefined
    if (waited) mark('GET after wake sent')
    return get(key).then((r) => {
      if (waited) mark('GET after wake answered')
      return r
    })
  }
  // The plain path: a herd without `fused` (core does not use it yet either way).
  const herd = createHerd({ store: backend.store, lock: { ...backend.lock, fused: undefined }, bus: backend.bus, ttl: '1m' })
  process.on('message', async (m) => {
    if (m.cmd === 'exit') {
      await herd.close()
      await Promise.all([client.close(), spy.close()])
      process.exit(0)
    }
    marks = {}
    const wait = m.at - Date.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    let loaded = false
    const callers = Array.from({ length: m.callers }, () =>
      new Promise((resolve) => setImmediate(resolve)).then(() =>
        herd
          .fetch(m.key, async () => {
            loaded = true
            await new Promise((r) => setTimeout(r, 20))
            mark('loader done')
            return { row: m.key }
          })
          .then(() => mark('first caller served')),
      ),
    )
    await Promise.all(callers)
    process.send({ loaded, marks })
  })
  process.send({ ready: true })
} else {
  const { startRedis } = await import('@herd/testing/redis-server')
  const mode = role ?? 'plain'
  const rounds = Number(process.argv[3] ?? 20)
  const bundle = process.argv[4] ?? fileURLToPath(new URL('../dist/index.js', import.meta.url))
  const server = await startRedis()
  const prefix = 'wp:'
  const worker = fileURLToPath(new URL('../test/fixtures/herd-worker.mjs', import.meta.url))
  const endpoints = { url: server.url, clusterUrls: [], sentinel: { name: '', nodes: [] } }
  const children = Array.from({ length: 4 }, () =>
    mode === 'fused'
      ? fork(worker, [JSON.stringify({ bundle, target: { library: 'node-redis 5', topology: 'single' }, endpoints, prefix })], {
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        })
      : fork(fileURLToPath(import.meta.url), ['child', JSON.stringify({ url: server.url, prefix, bundle })], {
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        }),
  )
  const next = (c) => new Promise((resolve) => c.once('message', resolve))
  await Promise.all(children.map(next))
  const samples = {}
  const add = (name, t) => (samples[name] ??= []).push(t)
  for (let r = 0; r < rounds; r++) {
    const results = Promise.all(children.map(next))
    const key = `cold:${r}`
    if (mode === 'fused') {
      for (const c of children) c.send({ cmd: 'fused', keys: [key], callers: 250, loaderMs: 20, counterKey: `${prefix}loads`, value: 'v' })
      const done = await results
      const write = done.flatMap((d) => d.writes)[0]
      add('holder  loader done', 0)
      add('holder  fill sent', write.sentAt - write.loadedAt)
      add('holder  fill answered', write.at - write.loadedAt)
      for (const d of done.filter((x) => x.writes.length === 0)) {
        const woken = d.outcomes.find((o) => o.wokenAt !== undefined)
        if (woken) add('waiter  wait resolved (entry in hand)', woken.wokenAt - write.loadedAt)
        add('waiter  first caller served', Math.min(...d.outcomes.map((o) => o.at)) - write.loadedAt)
      }
    } else {
      const at = Date.now() + 100
      for (const c of children) c.send({ key, callers: 250, at })
      const done = await results
      const holder = done.find((d) => d.loaded)
      const zero = holder.marks['loader done']
      for (const [name, t] of Object.entries(holder.marks)) add(`holder  ${name}`, t - zero)
      for (const d of done.filter((x) => !x.loaded)) for (const [name, t] of Object.entries(d.marks)) add(`waiter  ${name}`, t - zero)
    }
  }
  console.log(`${mode}: ms after the holder's loader returned, ${rounds} rounds × 4 processes × 250 callers (median / p90):`)
  for (const [name, xs] of Object.entries(samples).sort((a, b) => median(a[1]) - median(b[1]))) {
    if (name.includes('wait started')) continue
    console.log(`  ${name.padEnd(40)} ${median(xs).toFixed(2).padStart(7)} / ${p90(xs).toFixed(2).padStart(7)}`)
  }
  for (const c of children) c.send({ cmd: 'exit' })
  await Promise.all(children.map((c) => new Promise((resolve) => c.once('exit', resolve))))
  await server.stop()
}
