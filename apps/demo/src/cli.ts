#!/usr/bin/env node
import { parseConfig, USAGE, type Config } from './config.js'
import { isClusterWorker, runClusterWorker, startCluster } from './fleet/cluster.js'
import { describeSetup, startSingle, type Running } from './fleet/single.js'
import { runStampede } from './stampede.js'

async function main(): Promise<void> {
  if (isClusterWorker()) return runClusterWorker()

  let config: Config
  try {
    config = parseConfig(process.argv.slice(2), process.env)
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`)
    process.exit(2)
  }

  if (config.command === 'serve') console.log('herd demo: starting (seeding the database takes a few seconds)…')
  const running: Running = await (config.workers > 1 ? startCluster(config) : startSingle(config))

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

  let stopping = false
  const stop = () => {
    if (stopping) return
    stopping = true
    void running.close().then(() => process.exit())
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

main().catch((error: unknown) => {
  const { code, message } = error as { code?: string; message?: string }
  console.error(code === 'EADDRINUSE' ? `herd demo: ${message}. Set PORT (and KOA_PORT) to free ports.` : error)
  process.exit(1)
})
