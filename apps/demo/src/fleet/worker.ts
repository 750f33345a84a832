import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { herdCache as expressHerdCache } from '@herd/express'
import { herdCache as koaHerdCache } from '@herd/koa'
import { openBackend } from '../backend.js'
import { createCatalog } from '../catalog.js'
import type { Config } from '../config.js'
import { expressApp } from '../http/express-app.js'
import { koaApp } from '../http/koa-app.js'
import { apiRoutes, RESPONSE_CACHE } from '../http/routes.js'
import { Metrics } from './metrics.js'
import { HerdTelemetry } from './telemetry.js'
import type { Fleet, WorkerHandle } from './types.js'

export interface Urls {
  express: string
  koa: string
}

export interface RunningWorker {
  urls: Urls
  handle: WorkerHandle
  close(): Promise<void>
}

/** One HTTP process: its own herd (on memory or Redis), Express and Koa servers over the fleet's database. */
export async function startWorker(config: Config, fleet: Fleet): Promise<RunningWorker> {
  const backend = await openBackend(config.redisUrl)
  const { herd } = backend
  const telemetry = new HerdTelemetry(herd)
  const metrics = new Metrics(herd, telemetry)
  const catalog = createCatalog({ herd, naive: backend.naive, query: fleet.query })
  const expressCache = expressHerdCache({ ...RESPONSE_CACHE, herd })
  const koaCache = koaHerdCache({ ...RESPONSE_CACHE, herd })
  // Both store in this herd under the same URL keys, so expiring a URL through one drops it for both.
  const routes = apiRoutes({ catalog, fleet, herdStats: () => herd.stats(), responses: expressCache })

  const servers: Server[] = []
  async function close(): Promise<void> {
    await Promise.all(servers.map(stop))
    await telemetry.close()
    await backend.close()
  }
  try {
    servers.push(
      await listen(
        expressApp({ routes, metrics, fleet, responseCache: expressCache, prometheus: (req, res) => telemetry.serve(req, res) }),
        config.host,
        config.port,
      ),
    )
    servers.push(await listen(koaApp({ routes, metrics, responseCache: koaCache }).callback(), config.host, config.koaPort))
  } catch (error) {
    await close()
    throw error
  }

  return {
    urls: { express: url(servers[0]!, config.host), koa: url(servers[1]!, config.host) },
    handle: {
      collect: () => metrics.take(),
      async prepare({ step, protect, mode }) {
        if (step === 'expire') await catalog.expireHotKey(protect, mode)
        else if (protect) await catalog.warmHotKey()
      },
    },
    close,
  }
}

function listen(handler: RequestListener, host: string, port: number): Promise<Server> {
  const server = createServer(handler)
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    // A deep accept queue: a burst opens a thousand connections at once.
    server.listen({ host, port, backlog: 4_096 }, () => {
      server.off('error', reject)
      resolve(server)
    })
  })
}

function stop(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections() // event streams and idle keep-alive connections never end by themselves
  })
}

function url(server: Server, host: string): string {
  const { port } = server.address() as AddressInfo
  // Bound to every interface: loopback reaches it, and bursts only ever go to loopback.
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`
}
