import cluster, { type Worker } from 'node:cluster'
import { createServer } from 'node:net'
import { StartupError } from '../backend.js'
import type { Config } from '../config.js'
import { openDatabase } from '../db/index.js'
import { Hub } from './hub.js'
import { Rpc, type Channel } from './ipc.js'
import { fleetInfo, type Running } from './single.js'
import type { BurstOptions, Fleet, FleetEvent, FleetInfo, PrepareStep, Sample } from './types.js'
import { startWorker, type Urls } from './worker.js'

/** The primary's resolved config, handed to workers as is (their argv may say port 0). */
const CONFIG_ENV = 'HERD_DEMO_WORKER_CONFIG'

/**
 * N HTTP processes sharing the ports through node:cluster. The primary owns
 * what must be one for the whole fleet: the database and its connection
 * budget (PGlite can't be opened by two processes), the metrics and the
 * bursts. Each worker has its own herd: with in-memory backends each process
 * coalesces only its own requests; with REDIS_URL they coalesce fleet-wide.
 */
export async function startCluster(config: Config): Promise<Running> {
  // Workers listening on port 0 would all share one random port, Express's and Koa's alike; pick real ones first.
  const resolved: Config = {
    ...config,
    port: config.port || (await freePort(config.host)),
    koaPort: config.koaPort || (await freePort(config.host)),
  }
  const db = await openDatabase({ url: config.databaseUrl, budget: config.budget })
  const hub = new Hub(db, fleetInfo(config, db))
  const members: Array<{ worker: Worker; link: Rpc }> = []
  let closing = false

  cluster.setupPrimary({ serialization: 'advanced' })
  const ready = Array.from({ length: config.workers }, () => {
    const worker = cluster.fork({ [CONFIG_ENV]: JSON.stringify(resolved) })
    return new Promise<Urls>((resolve, reject) => {
      const link = new Rpc(worker, {
        info: () => hub.info,
        query: (label: string, sql: string, params: unknown[]) => db.query(label, sql, params),
        dbStats: () => db.stats(),
        burst: (options: BurstOptions) => hub.burst(options),
        ready: (urls: Urls) => resolve(urls),
      })
      members.push({ worker, link })
      hub.addWorker({
        collect: () => link.call<Sample>('collect', [], 800),
        prepare: (step: PrepareStep) => link.call('prepare', [step], 15_000),
      })
      worker.once('exit', (code, signal) => {
        link.fail(`worker ${worker.process.pid} exited`)
        reject(new StartupError(`herd demo: worker ${worker.process.pid} exited during startup (${signal ?? code})`))
        if (closing) return
        // A demo that silently lost a worker would show wrong numbers: stop instead.
        console.error(`herd demo: worker ${worker.process.pid} exited (${signal ?? code}); stopping`)
        process.exitCode = 1
        void running.close()
      })
    })
  })
  hub.subscribe((event: FleetEvent) => {
    for (const { link } of members) link.emit(event)
  })

  const running: Running = {
    urls: { express: '', koa: '' },
    hub,
    async close() {
      if (closing) return
      closing = true
      hub.close()
      await Promise.all(members.map(stopWorker))
      await db.close()
    },
  }
  try {
    const [urls] = await Promise.all(ready)
    running.urls = urls!
  } catch (error) {
    await running.close()
    throw error
  }
  hub.target = running.urls.express
  hub.start()
  return running
}

/** A worker process: HTTP over the primary's database, its own herd, metrics and burst steps on request. */
export async function runClusterWorker(): Promise<void> {
  const config = JSON.parse(process.env[CONFIG_ENV]!) as Config
  // Ctrl-C reaches every process of the terminal's group: the primary decides when workers stop.
  process.on('SIGINT', () => {})
  const listeners = new Set<(event: FleetEvent) => void>()
  let worker: Awaited<ReturnType<typeof startWorker>> | undefined
  const link = new Rpc(
    process as unknown as Channel, // process.send exists: this process was forked with an IPC channel
    {
      collect: () => worker!.handle.collect(),
      prepare: (step: PrepareStep) => worker!.handle.prepare(step),
      close: async () => {
        await worker?.close()
        process.exit(0)
      },
    },
    (event) => {
      for (const listener of listeners) listener(event as FleetEvent)
    },
  )
  const fleet: Fleet = {
    info: await link.call<FleetInfo>('info'),
    query: (label, sql, params = []) => link.call('query', [label, sql, params]),
    dbStats: () => link.call('dbStats'),
    burst: (options) => link.call('burst', [options]),
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
  process.once('disconnect', () => {
    link.fail('the primary process is gone')
    void (worker?.close() ?? Promise.resolve()).finally(() => process.exit(0))
  })
  worker = await startWorker(config, fleet)
  await link.call('ready', [worker.urls])
}

export const isClusterWorker = () => cluster.isWorker && process.env[CONFIG_ENV] !== undefined

function stopWorker({ worker, link }: { worker: Worker; link: Rpc }): Promise<void> {
  return new Promise((resolve) => {
    if (worker.isDead()) return resolve()
    const timer = setTimeout(() => worker.kill('SIGKILL'), 5_000)
    worker.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    // The worker closes its servers (event streams included), its herd and Redis client, then exits.
    link.call('close').catch(() => {})
  })
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}
