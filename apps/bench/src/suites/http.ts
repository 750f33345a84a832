/**
 * Suite 6 — HTTP. autocannon (in this process) against a server in a child
 * process (so the load generator and the server each get a core):
 * @herd/express vs bare Express returning the same bytes vs apicache, and
 * @herd/koa vs bare Koa vs koa-cash, on a cached route. Then the stampede:
 * 200 connections at once on a route whose entry has just expired, counting
 * the handler calls each server made.
 */
import type { ChildProcess } from 'node:child_process'
import { Agent, request } from 'node:http'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { sleep } from '../lib/burst.js'
import { nextMessage, spawnTs, stopChild } from '../lib/children.js'
import { int, ms, ratio } from '../lib/format.js'
import { progress } from '../lib/progress.js'
import type { Table, TargetCheck } from '../lib/report.js'
import { latency, median, pairedRatio, shuffle } from '../lib/stats.js'
import { begin } from '../lib/suite-result.js'
import { PATH, type Variant } from './http-shared.js'
import type { RunOptions, Suite } from './types.js'

const SERVER = fileURLToPath(new URL('./http-server.ts', import.meta.url))

const VARIANTS: ReadonlyArray<{ variant: Variant; name: string; config: string; family: 'express' | 'koa'; library: string }> = [
  {
    variant: 'express-bare',
    name: 'bare Express',
    family: 'express',
    library: 'bare',
    config: 'Express 5, app.get(path, handler) sending the same bytes at once: no cache, no query (the ceiling)',
  },
  {
    variant: 'express-herd',
    name: '@herd/express',
    family: 'express',
    library: 'herd',
    config: 'app.get(path, herdCache({ ttl }), handler) with its own in-memory herd',
  },
  {
    variant: 'express-apicache',
    name: 'apicache',
    family: 'express',
    library: 'apicache',
    config:
      "app.get(path, apicache.newInstance({ defaultDuration: '<ttl> milliseconds' }).middleware(), handler) — its README's setup; it has no stampede protection to configure",
  },
  {
    variant: 'koa-bare',
    name: 'bare Koa',
    family: 'koa',
    library: 'bare',
    config: 'Koa 3, one middleware setting ctx.body to the same bytes at once: no cache, no query (the ceiling)',
  },
  { variant: 'koa-herd', name: '@herd/koa', family: 'koa', library: 'herd', config: 'app.use(herdCache({ ttl })) with its own in-memory herd' },
  {
    variant: 'koa-cash',
    name: 'koa-cash',
    family: 'koa',
    library: 'koa-cash',
    config:
      "app.use(koaCash({ maxAge: ttl, get, set })) over lru-cache, `if (await ctx.cashed()) return` in the handler — its README's setup; no stampede protection to configure",
  },
]

interface Server {
  child: ChildProcess
  port: number
}

async function startServer(variant: Variant, ttlMs: number): Promise<Server> {
  const child = spawnTs(SERVER)
  const listening = nextMessage(child, (m): m is { type: 'listening'; port: number } => m?.type === 'listening', 30_000, `${variant} startup`)
  child.send({ variant, ttlMs })
  return { child, port: (await listening).port }
}

async function handlerCalls(server: Server): Promise<number> {
  const reply = nextMessage(server.child, (m): m is { type: 'count'; handlerCalls: number } => m?.type === 'count', 10_000, 'count')
  server.child.send({ type: 'count' })
  return (await reply).handlerCalls
}

function get(port: number, agent: Agent): Promise<{ status: number; bytes: number; ms: number }> {
  const t0 = performance.now()
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: PATH, agent }, (res) => {
      let bytes = 0
      res.on('data', (chunk: Buffer) => (bytes += chunk.length))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, ms: performance.now() - t0 }))
    })
    req.on('error', () => resolve({ status: 0, bytes: 0, ms: performance.now() - t0 }))
    req.setTimeout(10_000, () => req.destroy())
    req.end()
  })
}

interface LoadSample {
  rps: number
  p50: number
  p99: number
  non2xx: number
  errors: number
}

/** `seconds` of load, or (smoke) a fixed `amount` of requests. */
async function load(port: number, connections: number, seconds: number, amount?: number): Promise<LoadSample> {
  const result = await autocannon({ url: `http://127.0.0.1:${port}${PATH}`, connections, pipelining: 1, ...(amount ? { amount } : { duration: seconds }) })
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors + result.timeouts }
}

interface BurstSample {
  handlerCalls: number
  totalMs: number
  p99: number
  failed: number
}

async function burstOnce(variant: Variant, connections: number, ttlMs: number): Promise<BurstSample> {
  const server = await startServer(variant, ttlMs)
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity })
  try {
    await get(server.port, agent) // cached…
    await sleep(ttlMs + 100) // …and expired
    const before = await handlerCalls(server)
    const t0 = performance.now()
    const replies = await Promise.all(Array.from({ length: connections }, () => get(server.port, agent)))
    const totalMs = performance.now() - t0
    return {
      handlerCalls: (await handlerCalls(server)) - before,
      totalMs,
      p99: latency(replies.map((r) => r.ms)).p99,
      failed: replies.filter((r) => r.status !== 200).length,
    }
  } finally {
    agent.destroy()
    await stopChild(server.child)
  }
}

export const http: Suite = {
  name: 'http',
  aliases: ['6', 'express', 'koa'],
  title: '6. HTTP: cached routes under autocannon',
  async run(options: RunOptions) {
    const clock = begin(this.name, this.title)
    const rounds = options.rounds ?? (options.smoke ? 1 : 5)
    const seconds = options.smoke ? 1 : 4
    const connections = options.smoke ? 10 : 100
    const burstConnections = options.smoke ? 50 : 200
    // The burst must end before the refreshed entry expires again (or a second refresh is counted): on a loaded
    // machine 50 connections can take a while, so the smoke run leaves two seconds.
    const burstTtlMs = options.smoke ? 2_000 : 1_000
    const amount = options.smoke ? 300 : undefined
    const variants = VARIANTS.filter((v) => !options.only || options.only.includes(v.library) || v.library === 'bare')
    // Smoke: the stampede only where the count is the point (herd) and one server without a cache.
    const burstVariants = options.smoke ? variants.filter((v) => v.library === 'herd' || v.variant === 'express-bare') : variants
    const p = progress(this.name)
    const loadSamples: Record<string, LoadSample[]> = {}
    const burstSamples: Record<string, BurstSample[]> = {}
    const servers = new Map<Variant, Server>()
    try {
      for (const v of variants) {
        p.step(`starting ${v.name}`)
        const server = await startServer(v.variant, 60_000)
        servers.set(v.variant, server)
        if (!options.smoke) await load(server.port, connections, 1) // fills the cache and warms the JIT
      }
      for (let r = 0; r < rounds; r++) {
        for (const v of shuffle([...variants])) {
          p.step(`round ${r + 1}/${rounds}: ${v.name}, ${connections} connections for ${seconds} s`)
          ;(loadSamples[v.name] ??= []).push(await load(servers.get(v.variant)!.port, connections, seconds, amount))
        }
      }
    } finally {
      await Promise.all([...servers.values()].map((s) => stopChild(s.child)))
    }
    for (let r = 0; r < rounds; r++) {
      for (const v of shuffle([...burstVariants])) {
        p.step(`burst round ${r + 1}/${rounds}: ${v.name}, ${burstConnections} connections on an expired route`)
        ;(burstSamples[v.name] ??= []).push(await burstOnce(v.variant, burstConnections, burstTtlMs))
      }
    }
    p.done()

    const lmed = (name: string, f: keyof LoadSample) => median(loadSamples[name]!.map((s) => s[f]))
    // Throughput ratios pair each server's sample with the other's in the same round (see pairedRatio).
    const rps = (name: string) => loadSamples[name]!.map((s) => s.rps)
    const times = (name: string, than: string) => pairedRatio(rps(name), rps(than))
    const bmed = (name: string, f: keyof BurstSample) => median(burstSamples[name]!.map((s) => s[f]))
    const tables: Table[] = []
    const targets: TargetCheck[] = []
    for (const family of ['express', 'koa'] as const) {
      const fam = variants.filter((v) => v.family === family)
      const bare = fam.find((v) => v.library === 'bare')!
      const herdV = fam.find((v) => v.library === 'herd')
      const peer = fam.find((v) => v.library !== 'bare' && v.library !== 'herd')
      const bareRps = lmed(bare.name, 'rps')
      tables.push({
        title: `${family === 'express' ? 'Express' : 'Koa'}: cached GET ${PATH} (~1 KB JSON), ${connections} connections × ${amount ? `${amount} requests` : `${seconds} s`} (median of ${rounds} round${rounds > 1 ? 's' : ''})`,
        columns: ['server', 'req/s', '× bare', 'latency p50', 'latency p99', 'non-2xx', 'errors'],
        rows: fam.map((v) => [
          v.name,
          int(lmed(v.name, 'rps')),
          ratio(times(v.name, bare.name)),
          ms(lmed(v.name, 'p50')),
          ms(lmed(v.name, 'p99')),
          int(lmed(v.name, 'non2xx')),
          int(lmed(v.name, 'errors')),
        ]),
        notes: [
          'bare = the same bytes with no cache and no query: the ceiling. Every cached server answers from its cache after the first request.',
          "req/s: the median over the rounds; × bare: the median of per-round ratios, each server's sample against bare's in the same round.",
        ],
      })
      if (herdV) {
        const herdRps = lmed(herdV.name, 'rps')
        const ofBare = times(herdV.name, bare.name)
        targets.push({
          target: `${herdV.name} cached route ≥ 0.9× bare ${family === 'express' ? 'Express' : 'Koa'}`,
          measured: `${ratio(ofBare)} (${int(herdRps)} vs ${int(bareRps)} req/s)`,
          met: ofBare >= 0.9,
        })
        if (peer) {
          const ofPeer = times(herdV.name, peer.name)
          targets.push({
            target: `${herdV.name} ahead of ${peer.name}`,
            measured: `${ratio(ofPeer)} ${peer.name}'s req/s`,
            met: ofPeer > 1,
          })
        }
        const calls = burstSamples[herdV.name]?.map((s) => s.handlerCalls) ?? []
        if (!calls.length) continue
        targets.push({
          target: `${herdV.name}: 1 handler call for ${burstConnections} connections on an expired route (every round)`,
          measured: `${[...new Set(calls)].join(', ')} (rounds: ${calls.length})`,
          met: calls.every((c) => c === 1),
        })
      }
    }
    tables.push({
      title: `Stampede: ${burstConnections} connections at once on a route whose entry just expired (ttl ${burstTtlMs} ms, handler = 20 ms query; median of ${rounds})`,
      columns: ['server', 'handler calls', 'all answered', 'request p99', 'failed'],
      rows: burstVariants.map((v) => [
        v.name,
        int(bmed(v.name, 'handlerCalls')),
        ms(bmed(v.name, 'totalMs')),
        ms(bmed(v.name, 'p99')),
        int(bmed(v.name, 'failed')),
      ]),
      notes: [
        'Bare servers have no cache: every request runs the handler (without the query).',
        'New connection per request (no keep-alive), all opened in one tick.',
      ],
    })
    return clock.finish({
      settings: {
        rounds,
        seconds,
        connections,
        pipelining: 1,
        burstConnections,
        burstTtlMs,
        handler: '20 ms query, then the same ~1 KB JSON',
        loadGenerator: 'autocannon in the parent process; server in a child process',
      },
      contenders: variants.map((v) => ({ name: v.name, config: v.config })),
      tables,
      targets,
      notes: [],
      data: { load: loadSamples, burst: burstSamples },
    })
  },
}
