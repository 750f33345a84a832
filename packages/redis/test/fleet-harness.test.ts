import { describe, expect, it } from 'vitest'
import { type Endpoints, TARGETS, clusterUrls, haveRedis, redisUrl, sentinel, uniquePrefix } from './clients.js'
import { spawnWorkers } from './fleet.js'

// The fleet tests' own harness: when a worker's answer doesn't come, the failure must say why (a red run that only
// says "no message within 120 s" can't be diagnosed afterwards).
describe.skipIf(!haveRedis)('the fleet test harness', () => {
  it("a worker's answer that doesn't come in time fails with what the worker still waits on", async () => {
    const endpoints: Endpoints = { url: redisUrl, clusterUrls, sentinel }
    const prefix = uniquePrefix()
    const [worker] = await spawnWorkers(1, { target: TARGETS[0]!, endpoints, prefix, herd: { lease: '1m' } })
    // Three callers of a key whose loader never returns: the worker can't answer.
    worker!.send({ cmd: 'fetch', key: 'stuck', callers: 3, hang: true, counterKey: `${prefix}calls`, value: 1, options: { ttl: '1m' } })
    const failure = await worker!.next('fetched', 1_000).then(
      () => undefined,
      (error: Error) => error.message,
    )
    expect(failure).toMatch(/^no "fetched" from worker \d+ within 1000 ms; it reports: /)
    const dump = JSON.parse(failure!.slice(failure!.indexOf('{')))
    expect(dump).toMatchObject({ openKeys: 1, oldest: [{ key: 'stuck', callers: 3, inspect: { inFlight: true, lease: { held: true } } }] })
  })
})
