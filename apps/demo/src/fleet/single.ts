import type { Config } from '../config.js'
import { MAX_BURST } from '../config.js'
import { HOT_KEY } from '../catalog.js'
import { openDatabase, type Database } from '../db/index.js'
import { Hub } from './hub.js'
import type { FleetInfo } from './types.js'
import { startWorker, type Urls } from './worker.js'

/** A started demo, whichever its shape: one process, or a primary with workers. `hub.info` describes it. */
export interface Running {
  urls: Urls
  hub: Hub
  close(): Promise<void>
}

export function fleetInfo(config: Config, db: Database): FleetInfo {
  return {
    database: db.stats().description,
    budget: db.budget,
    backend: config.redisUrl ? 'redis' : 'memory',
    workers: config.workers,
    hotKey: HOT_KEY,
    maxBurst: MAX_BURST,
  }
}

/** One line for the terminal: database, budget, backend, processes. */
export function describeSetup(info: FleetInfo): string {
  return `${info.database}, ${info.budget} connections · herd on ${info.backend} · ${info.workers} process${info.workers > 1 ? 'es' : ''}`
}

/** Database, hub and HTTP servers in this one process. */
export async function startSingle(config: Config): Promise<Running> {
  const db = await openDatabase({ url: config.databaseUrl, budget: config.budget })
  const hub = new Hub(db, fleetInfo({ ...config, workers: 1 }, db))
  let worker
  try {
    worker = await startWorker(config, hub.localFleet())
  } catch (error) {
    await db.close()
    throw error
  }
  hub.addWorker(worker.handle)
  hub.target = worker.urls.express
  hub.start()
  return {
    urls: worker.urls,
    hub,
    async close() {
      hub.close()
      await worker.close()
      await db.close()
    },
  }
}
