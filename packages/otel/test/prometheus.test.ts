import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Herd, type Store, createHerd } from '@herd/core'
import { memoryBus, memoryLock, memoryStore } from '@herd/memory'
import { afterEach, describe, expect, it } from 'vitest'
import { prometheusMetrics } from '../examples/prometheus.js'
import { lockWaitStarted } from './support/barriers.js'
import { ALL_METRICS, type Scrape, parseScrape, prometheusSamples, promqlNames } from './support/prometheus.js'

const DASHBOARD = JSON.parse(readFileSync(new URL('../grafana/herd-dashboard.json', import.meta.url), 'utf8'))
const DOCS = readFileSync(new URL('../../../docs/observability.md', import.meta.url), 'utf8')
const EXAMPLE = readFileSync(new URL('../examples/prometheus.ts', import.meta.url), 'utf8')

/** A memoryStore that can be taken down and brought back, as a Redis restart would. */
function switchableStore(): Store & { down: boolean } {
  const store = memoryStore()
  const guard =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      switchable.down ? Promise.reject(new Error('store unreachable')) : call(...args)
  const switchable = {
    down: false,
    get: guard((key: string) => store.get(key)),
    set: guard((key: string, entry: Parameters<Store['set']>[1], ttlMs: number) => store.set(key, entry, ttlMs)),
    delete: guard((key: string) => store.delete(key)),
    expire: guard((key: string, at: number, fence?: number) => store.expire(key, at, fence)),
  }
  return switchable
}

const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

/**
 * A herd served through the documented Prometheus setup (examples/prometheus.ts,
 * mounted on a real HTTP server), driven through everything it can report:
 * misses, coalesced callers, hits, a stale serve and its refresh, a lock wait
 * for another holder, a fenced-out write, a failed load, an invalidation and
 * a breaker opening. Returns one real scrape of GET /metrics.
 */
async function scrapeAfterEverything(): Promise<{ text: string; scrape: Scrape }> {
  const store = switchableStore()
  const lock = memoryLock()
  const bus = memoryBus()
  const options = { store, lock, bus, breaker: { threshold: 1, resetAfter: '1h' } } as const
  const herd: Herd = createHerd(options)
  const other: Herd = createHerd(options) // not instrumented: the "other process"
  closers.push(
    () => other.close(),
    () => herd.close(),
  )
  const metrics = prometheusMetrics(herd, 'users')
  closers.push(() => metrics.close())
  const server = createServer((request, response) => (request.url === '/metrics' ? metrics.handler(request, response) : response.writeHead(404).end()))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  closers.push(() => new Promise((resolve) => server.close(() => resolve())))

  await Promise.all([herd.fetch('user:1', async () => 1), herd.fetch('user:1', async () => 1)]) // miss + coalesced
  await herd.fetch('user:1', async () => 1) // hit
  await herd.expire('user:1')
  const refreshed = new Promise<void>((resolve) => herd.on('refresh', () => resolve()))
  await herd.fetch('user:1', async () => 2) // stale, refreshed in the background
  await refreshed

  let release!: (value: string) => void
  let loading!: () => void
  const loaderStarted = new Promise<void>((resolve) => (loading = resolve))
  const held = other.fetch('report:1', () => {
    loading()
    return new Promise<string>((resolve) => (release = resolve))
  })
  await loaderStarted // the other herd holds the key's lease
  const waiting = lockWaitStarted()
  const waited = herd.fetch('report:1', async () => 'never')
  await waiting
  release('report')
  await Promise.all([held, waited])

  await store.set('user:2', { value: '01', fence: Number.MAX_SAFE_INTEGER, createdAt: 0, freshUntil: 0, staleUntil: 0, errorUntil: 0, loadMs: 0 }, 60_000)
  await herd.set('user:2', 'late') // fenced out
  await expect(herd.fetch('user:3', async () => Promise.reject(new Error('database down')))).rejects.toThrow('database down')
  store.down = true
  await herd.fetch('user:4', async () => 4) // the Store fails: the breaker opens
  store.down = false

  const { port } = server.address() as AddressInfo
  const response = await fetch(`http://127.0.0.1:${port}/metrics`)
  expect(response.status).toBe(200)
  const text = await response.text()
  return { text, scrape: parseScrape(text) }
}

describe('Prometheus, through the documented setup', () => {
  it('a real scrape has every metric @herd/otel defines, under the names the docs give', async () => {
    const { scrape, text } = await scrapeAfterEverything()
    for (const metric of ALL_METRICS) {
      for (const sample of prometheusSamples(metric)) expect(scrape.samples, `${sample} in\n${text}`).toContain(sample)
      // The docs' metric table names each metric as Prometheus shows it.
      expect(DOCS).toContain(`\`${prometheusSamples(metric)[0]!.replace(/_bucket$/, '')}\``)
      expect(DOCS).toContain(`\`${metric.name}\``)
    }
    expect(text).toContain('herd_name="users"')
    expect(text).toContain('herd_breaker_state{herd_name="users",herd_breaker_state="open",otel_scope_name="@herd/otel"} 1')
  })

  it('every metric and label the Grafana dashboard queries is one the scrape has', async () => {
    const { scrape } = await scrapeAfterEverything()
    const targets = (DASHBOARD.panels as Array<{ type: string; title: string; targets?: Array<{ expr: string }> }>).flatMap((panel) =>
      (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })),
    )
    const variables = (DASHBOARD.templating.list as Array<{ definition?: string }>).flatMap((v) =>
      v.definition ? [{ panel: 'variable', expr: v.definition }] : [],
    )
    expect(targets.length).toBeGreaterThanOrEqual(12)
    const queried = new Set<string>()
    for (const { panel, expr } of targets) {
      const { metrics, labels } = promqlNames(expr)
      expect(metrics.length, `${panel}: ${expr}`).toBeGreaterThan(0)
      for (const name of metrics) {
        expect(scrape.samples, `${panel}: ${name}`).toContain(name)
        queried.add(name)
      }
      for (const label of labels) if (label !== 'le') expect(scrape.labels, `${panel}: label ${label}`).toContain(label)
    }
    // label_values(herd_fetches_total, herd_name): the herd picker.
    for (const { expr } of variables) {
      const [, metric, label] = /label_values\((\w+),\s*(\w+)\)/.exec(expr)!
      expect(scrape.samples).toContain(metric)
      expect(scrape.labels).toContain(label)
    }
    // What the brief asks the dashboard to graph is there.
    const titles = (DASHBOARD.panels as Array<{ title: string }>).map((p) => p.title)
    for (const title of ['Hit ratio', 'Coalesced ratio', 'Loads/s by reason', 'Refresh latency', 'Lock waits/s', 'Breaker state'])
      expect(titles).toContain(title)
    expect(queried).toContain('herd_lock_wait_duration_bucket')
    expect(queried).toContain('herd_breaker_state')
  })

  it('the docs show the example verbatim', () => {
    expect(DOCS).toContain(EXAMPLE.trim())
  })
})
