// One process waits on a cold key while another loads it (nothing asserted):
// how long after the loader returns the waiting process serves its callers,
// through herd (redisBackend: fenced fill script, wake-up carrying the entry)
// and through the floor (a bare SET NX lock, MULTI SET + PUBLISH, the waiter
// subscribed up front; no fences, timeouts or fallbacks), alternated round by
// round on one redis-server. Also the waiter's CPU per round (its miss, wait
// and wake). Run after `pnpm build`: `node scripts/wake-vs-floor.mjs [rounds] [callers] [items]`
// (items: that many more small objects in the row, about 40 bytes each).
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createHerd } from '@herd/core'
import { createClient } from 'redis'
import { redisBackend } from '../dist/index.js'

const now = () => performance.timeOrigin + performance.now()
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
/** The loaded row; `items` more small objects make a larger value (about 40 bytes of JSON each). */
const ROW = (key, items = 0) => ({
  id: key,
  name: 'User',
  email: 'user@example.com',
  version: 1,
  tags: ['a', 'b', 'c'],
  items: Array.from({ length: items }, (_, i) => ({ i, sku: `sku-${i}`, qty: i % 7 })),
})

if (process.argv[2] === 'waiter') {
  const [url, callers] = [process.argv[3], Number(process.argv[4])]
  const client = await createClient({ url }).connect()
  const herd = createHerd({ ...redisBackend(client), ttl: '1m', local: { maxSize: 10_000, ttl: '5s' } })
  await herd.ready()
  const subscriber = await client.duplicate().connect()
  const woken = new Map()
  await subscriber.subscribe('floor:wake', (message) => {
    const cut = message.indexOf('\n')
    woken.get(message.slice(0, cut))?.(JSON.parse(message.slice(cut + 1)))
  })
  const floorFlight = async (key) => {
    const message = new Promise((resolve) => woken.set(key, resolve))
    if ((await client.get(`floor:${key}`)) !== null) throw new Error('the floor key was not cold')
    const won = await client.set(`floor:lock:${key}`, '1', { condition: 'NX', expiration: { type: 'PX', value: 5_000 } })
    if (won !== null) throw new Error('the waiter took the floor lock')
    return message
  }
  process.on('message', async (m) => {
    if (m.exit) {
      await herd.close()
      await subscriber.quit()
      await client.quit()
      process.exit(0)
    }
    const served = []
    const cpu = process.cpuUsage()
    const flight = m.floor ? floorFlight(m.key) : undefined
    const fetch = () => (m.floor ? flight : herd.fetch(m.key, async () => Promise.reject(new Error('the waiter loaded'))))
    const all = Promise.all(Array.from({ length: callers }, () => fetch().then(() => served.push(now()))))
    process.send({ waiting: true })
    await all
    const used = process.cpuUsage(cpu)
    process.send({ first: served[0], cpu: used.user + used.system })
  })
  process.send({ ready: true })
} else {
  const { startRedis } = await import('@herd/testing/redis-server')
  const rounds = Number(process.argv[2] ?? 100)
  const callers = Number(process.argv[3] ?? 250)
  const items = Number(process.argv[4] ?? 0)
  const server = await startRedis()
  const waiter = fork(fileURLToPath(import.meta.url), ['waiter', server.url, String(callers)])
  const next = () => new Promise((resolve) => waiter.once('message', resolve))
  await next()
  const client = await createClient({ url: server.url }).connect()
  const herd = createHerd({ ...redisBackend(client), ttl: '1m', local: false })
  await herd.ready()
  const results = { herd: { served: [], cpu: [] }, floor: { served: [], cpu: [] } }
  try {
    for (let r = 0; r < 2 * rounds; r++) {
      const floor = r % 2 === 1
      const key = `k${r}`
      let loadedAt = 0
      let done
      // The holder takes the key first; then the waiter's callers arrive, and the load takes 20 ms.
      const load = async () => {
        waiter.send({ key, floor })
        await next()
        done = next()
        await sleep(20)
        loadedAt = now()
        return ROW(key, items)
      }
      if (floor) {
        await client.get(`floor:${key}`)
        await client.set(`floor:lock:${key}`, '1', { condition: 'NX', expiration: { type: 'PX', value: 5_000 } })
        const json = JSON.stringify(await load())
        await client
          .multi()
          .set(`floor:${key}`, json, { expiration: { type: 'PX', value: 60_000 } })
          .publish('floor:wake', `${key}\n${json}`)
          .exec()
      } else {
        await herd.fetch(key, load)
      }
      const d = await done
      const into = results[floor ? 'floor' : 'herd']
      into.served.push(d.first - loadedAt)
      into.cpu.push(d.cpu)
      await sleep(5)
    }
  } finally {
    waiter.send({ exit: true })
    await new Promise((resolve) => waiter.once('exit', resolve))
    await herd.close()
    await client.quit()
    await server.stop()
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]
  console.log(
    `one waiting process × ${callers} callers, a ${JSON.stringify(ROW('k', items)).length}-byte row, ${rounds} rounds each, alternated (medians):`,
  )
  for (const [name, r] of Object.entries(results)) {
    console.log(
      `  ${name.padEnd(6)} first caller served ${median(r.served).toFixed(2)} ms after the loader returned; waiter CPU ${median(r.cpu)} µs a round`,
    )
  }
}
