// Where a fleet wake-up spends its time (nothing asserted). Real processes,
// one real redis-server; every step of a cold miss is timestamped on one
// clock (epoch ms, sub-ms) in the process where it happens:
//   holder: loader done → Store.set sent / answered (or fused fill) → release sent / answered
//   waiter: wake message seen by a spy connection → wait resolved → GET sent / answered → first caller served
// Run after `pnpm build`: `node scripts/wake-profile.mjs [rounds] [bundle]`.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const role = process.argv[2]
const now = () => performance.timeOrigin + performance.now()

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
  if (backend.lock.fused) {
    wrap(backend.lock.fused, 'fill', 'fill sent', 'fill answered')
    wrap(backend.lock.fused, 'wait', 'wait started', 'wait resolved')
  }
  const get = backend.store.get.bind(backend.store)
  backend.store.get = (key) => {
    const waited = marks['wait resolved'] !== undefined
    if (waited) mark('GET after wake sent')
    return get(key).then((r) => {
      if (waited) mark('GET after wake answered')
      return r
    })
  }
  const herd = createHerd({ ...backend, ttl: '1m' })
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
        herd.fetch(m.key, async () => {
          loaded = true
          await new Promise((r) => setTimeout(r, 20))
          mark('loader done')
          return { row: m.key }
        }).then(() => mark('first caller served')),
      ),
    )
    await Promise.all(callers)
    process.send({ loaded, marks })
  })
  process.send({ ready: true })
} else {
  const { startRedis } = await import('@herd/testing/redis-server')
  const rounds = Number(process.argv[2] ?? 20)
  const bundle = process.argv[3] ?? fileURLToPath(new URL('../dist/index.js', import.meta.url))
  const server = await startRedis()
  const prefix = 'wp:'
  const children = Array.from({ length: 4 }, () =>
    fork(fileURLToPath(import.meta.url), ['child', JSON.stringify({ url: server.url, prefix, bundle })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  )
  const next = (c) => new Promise((resolve) => c.once('message', resolve))
  await Promise.all(children.map(next))
  const samples = {}
  for (let r = 0; r < rounds; r++) {
    const results = Promise.all(children.map(next))
    const at = Date.now() + 100
    for (const c of children) c.send({ key: `cold:${r}`, callers: 250, at })
    const done = await results
    const holder = done.find((d) => d.loaded)
    const zero = holder.marks['loader done']
    const add = (name, t) => (samples[name] ??= []).push(t - zero)
    for (const [name, t] of Object.entries(holder.marks)) add(`holder  ${name}`, t)
    for (const d of done.filter((x) => !x.loaded)) for (const [name, t] of Object.entries(d.marks)) add(`waiter  ${name}`, t)
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]
  console.log(`ms after the holder's loader returned, ${rounds} rounds × 4 processes × 250 callers (median / p90):`)
  for (const [name, xs] of Object.entries(samples).sort((a, b) => median(a[1]) - median(b[1]))) {
    if (name.includes('wait started')) continue
    console.log(`  ${name.padEnd(36)} ${median(xs).toFixed(2).padStart(7)} / ${p90(xs).toFixed(2).padStart(7)}`)
  }
  for (const c of children) c.send({ cmd: 'exit' })
  await Promise.all(children.map((c) => new Promise((resolve) => c.once('exit', resolve))))
  await server.stop()
}
