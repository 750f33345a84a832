#!/usr/bin/env node
import { connectRedis, StartupError } from './backend.js'
import { parseConfig, USAGE, type Config } from './config.js'
import { isClusterWorker, runClusterWorker, startCluster } from './fleet/cluster.js'
import { describeSetup, startSingle, type Running } from './fleet/single.js'
import { runStampede } from './stampede.js'

let running: Running | undefined
let stopping = false

/**
 * Ctrl-C and SIGTERM: close everything, then exit 0 (a clean stop, so pnpm reports no failure). Ctrl-C
 * reaches every process of the terminal's group and pnpm forwards one more SIGINT to its child, so this
 * runs for each of them: a second signal must not kill the process mid-close. Before the service is up
 * nothing needs closing: its database thread and connections end with the process.
 */
function stop(): void {
  if (stopping) return
  stopping = true
  if (!running) process.exit(0)
  void running.close().then(() => process.exit(0))
}

async function main(): Promise<void> {
  if (isClusterWorker()) return runClusterWorker()
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)

  let config: Config
  try {
    config = parseConfig(process.argv.slice(2), process.env)
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`)
    process.exit(2)
  }

  // An unreachable REDIS_URL fails here, in about a second, rather than after the database is seeded.
  if (config.redisUrl) (await connectRedis(config.redisUrl)).destroy()
  if (config.command === 'serve') console.log('herd demo: starting (seeding the database takes a few seconds)…')
  running = await (config.workers > 1 ? startCluster(config) : startSingle(config))

  if (config.command === 'stampede') {
    await runStampede(running, config.count)
    await running.close()
    return
  }

  const { urls } = running
  console.log(`
herd demo is running: ${describeSetup(running.hub.info)}

  dashboard   ${urls.express}/
  Express API ${urls.express}/api/leaderboard
  Koa API     ${urls.koa}/api/leaderboard

Ctrl-C to stop.`)
}

main().catch((error: unknown) => {
  const { code, message } = error as { code?: string; message?: string }
  if (code === 'EADDRINUSE') console.error(`herd demo: ${message}. Set PORT (and KOA_PORT) to free ports.`)
  else if (error instanceof StartupError) console.error(error.message)
  else console.error(error)
  process.exit(1)
})
