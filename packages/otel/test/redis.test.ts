import type { ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { createHerd } from '@herd/core'
import { redisBackend } from '@herd/redis'
import { type RedisServer, redisReady, startRedis } from '@herd/testing/redis-server'
import { forkSource } from '@herd/testing/source-process'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ATTR, METRICS, SPANS } from '../src/names.js'
import { lockWaitStarted } from './support/barriers.js'
import { instrument, providers, telemetry } from './support/herds.js'

const HOLDER = fileURLToPath(new URL('./fixtures/lock-holder.mjs', import.meta.url))

/** The next IPC message of `type` from `child`. */
async function next(child: ChildProcess, type: string): Promise<any> {
  for (;;) {
    const [message] = (await once(child, 'message')) as [{ type: string }]
    if (message.type === type) return message
  }
}

describe.skipIf(!redisReady())('across two processes on a real Redis', () => {
  let redis: RedisServer
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(() => redis?.stop())

  it('a lock wait for another process: busy acquire, a released wait in the histogram, and a herd.lock.wait span', async () => {
    const prefix = `otel:${randomUUID()}:`
    const holder = forkSource(HOLDER, [JSON.stringify({ url: redis.url, prefix })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    const client = createClient({ url: redis.url })
    client.on('error', () => {})
    const herd = createHerd(redisBackend(client, { prefix }))
    try {
      await next(holder, 'ready')
      await client.connect()
      const t = telemetry()
      instrument(herd, { ...providers(t), name: 'web', keyGroup: (key) => key.split(':')[0] })

      holder.send({ cmd: 'hold', key: 'report:1' })
      await next(holder, 'loading') // the other process holds the lease and is loading
      const waiting = lockWaitStarted()
      const fetched = herd.fetch('report:1', async () => 'loaded here')
      await waiting // this process is now waiting for the holder
      holder.send({ cmd: 'release', value: 'loaded there' })
      await expect(fetched).resolves.toBe('loaded there')

      const m = await t.collect()
      const base = { [ATTR.name]: 'web', [ATTR.keyGroup]: 'report' }
      expect(m.points(METRICS.lockAcquires.name)).toEqual([expect.objectContaining({ attributes: { ...base, [ATTR.lockOutcome]: 'busy' }, value: 1 })])
      const [wait] = m.points(METRICS.lockWaitDuration.name)
      expect(wait).toMatchObject({ attributes: { ...base, [ATTR.lockOutcome]: 'released' }, value: 1 })
      expect(wait!.sum).toBeGreaterThan(0)
      expect(m.byName.get(METRICS.lockWaitDuration.name)!.descriptor.unit).toBe('s')
      // This process never ran the loader: the other one did.
      expect(m.points(METRICS.loadDuration.name)).toEqual([])
      expect(m.point(METRICS.fetches.name, {}).attributes).toMatchObject(base)

      const [span] = t.spans(SPANS.lockWait)
      expect(span!.attributes).toMatchObject({ ...base, [ATTR.lockOutcome]: 'released' })
      expect(t.spans(SPANS.load)).toEqual([])
    } finally {
      holder.send({ cmd: 'exit' })
      await once(holder, 'exit')
      await herd.close()
      client.destroy()
    }
  }, 60_000) // a child process on the sources (tsx) starts slowly on a loaded machine: the bound is for a hang
})
