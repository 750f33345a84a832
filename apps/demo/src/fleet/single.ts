import type { Config } from '../config.js'
import { MAX_BURST } from '../config.js'
import { HOT_KEY } from '../catalog.js'
import { openDatabase, type Database } from '../db/index.js'
import { Hub } from './hub.js'
import type { FleetInfo } from './types.js'
import { startWorker, type Urls } from './worker.js'

/** A started demo, whichever its shape: one process, or a primary with workers. */
export interface Running {
  urls: Urls
  info: FleetInfo
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
    info: hub.info,
    hub,
    async close() {
      hub.close()
      await worker.close()
      await db.close()
    },
  }
}
