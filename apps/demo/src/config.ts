import { parseArgs } from 'node:util'

export interface Config {
  /** `serve` runs until Ctrl-C; `stampede` fires the bursts, prints the table and exits. */
  command: 'serve' | 'stampede'
  host: string
  /** Express: dashboard and API. 0 picks a free port. */
  port: number
  /** Koa: the same API routes. 0 picks a free port. */
  koaPort: number
  /** Processes serving HTTP. 1 runs everything in one process; more uses node:cluster. */
  workers: number
  databaseUrl: string | undefined
  redisUrl: string | undefined
  /** Database connection budget: queries running at once. */
  budget: number
  /** Requests per burst for `stampede`. */
  count: number
}

export const MAX_BURST = 2_000
export const USAGE = `usage: herd-demo [stampede] [--port N] [--koa-port N] [--host H] [--workers N] [--budget N] [--count N]

  stampede        fire the bursts headless, print the comparison table and exit
  --port N        Express port: dashboard and API (env PORT, default 3000; 0 = any free port)
  --koa-port N    Koa port: the same API (env KOA_PORT, default port + 1)
  --host H        address to bind (env HOST, default 127.0.0.1)
  --workers N     HTTP processes (env WORKERS, default 1); with REDIS_URL they coalesce across processes
  --budget N      database connections (env DB_BUDGET, default 5)
  --count N       requests per burst for stampede (default 1000, at most ${MAX_BURST})

  DATABASE_URL    use this PostgreSQL server through pg instead of the embedded PGlite
  REDIS_URL       put herd's store, lock and bus on this Redis instead of process memory`

function integer(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined || value === '') return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be a whole number from ${min} to ${max}; got ${JSON.stringify(value)}`)
  return n
}

/** Flags win over environment variables; throws with a message for the user on anything invalid. */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Config {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      'koa-port': { type: 'string' },
      host: { type: 'string' },
      workers: { type: 'string' },
      budget: { type: 'string' },
      count: { type: 'string' },
    },
  })
  const command = positionals[0] ?? 'serve'
  if ((command !== 'serve' && command !== 'stampede') || positionals.length > 1) {
    throw new Error(`unknown command ${JSON.stringify(positionals.join(' '))}`)
  }
  // The headless run picks free ports, so it works next to a running demo.
  const port = integer(values.port ?? env.PORT, '--port', 0, 65_535) ?? (command === 'stampede' ? 0 : 3000)
  const koaPort = integer(values['koa-port'] ?? env.KOA_PORT, '--koa-port', 0, 65_535) ?? (port === 0 ? 0 : port + 1)
  return {
    command,
    host: values.host ?? env.HOST ?? '127.0.0.1',
    port,
    koaPort,
    workers: integer(values.workers ?? env.WORKERS, '--workers', 1, 16) ?? 1,
    databaseUrl: env.DATABASE_URL || undefined,
    redisUrl: env.REDIS_URL || undefined,
    budget: integer(values.budget ?? env.DB_BUDGET, '--budget', 1, 100) ?? 5,
    count: integer(values.count, '--count', 1, MAX_BURST) ?? 1_000,
  }
}
