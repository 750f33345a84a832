/**
 * Real redis-server processes for tests: a standalone server or a Redis
 * Cluster, each node on a free loopback port with a temp dir, stopped (and the
 * dir removed) by `stop()`. No Redis client library needed: child_process to
 * start servers and redis-cli to form a cluster, a raw socket to ask them
 * whether they are up.
 *
 * The project rule for suites that need Redis, implemented by `redisReady()`:
 * - `redis-server` found (PATH, or the REDIS_SERVER_BIN env var) → run.
 * - not found → skip, with a loud banner on stderr so a green run that tested
 *   nothing is visible.
 * - not found and HERD_REQUIRE_REDIS=1 (CI) → throw, so the suite fails.
 *
 *     import { redisReady, startRedis } from '@herd/testing/redis-server'
 *     describe.skipIf(!redisReady())('my store on Redis', () => {
 *       let redis: RedisServer
 *       beforeAll(async () => { redis = await startRedis() })
 *       afterAll(() => redis?.stop())
 *       ...
 *     })
 *
 * Everything binds to 127.0.0.1. Servers still running when the process exits
 * (a crashed test run) are SIGKILLed by an exit hook.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'

export const REDIS_HOST = '127.0.0.1'

export interface RedisServer {
  readonly host: string
  readonly port: number
  /** `redis://127.0.0.1:<port>`, for `createClient({ url })`. */
  readonly url: string
  /** Pid of the running process, or undefined while it is killed. */
  readonly pid: number | undefined
  /** SIGKILLs the server (a crash, nothing flushed) and waits for it to exit. Port and dir are kept for `restart()`. */
  kill(): Promise<void>
  /** SIGSTOPs the server: its sockets stay open but nothing answers (a hung Redis). `resume()` undoes it. */
  pause(): void
  resume(): void
  /** Starts the server again on the same port (empty: nothing is persisted) and waits until it answers PING. */
  restart(): Promise<void>
  /** Sends one command over a fresh connection and returns the reply (simple/bulk string, integer or error message). */
  command(...args: string[]): Promise<string | number | null>
  /** Stops the server, waits for it to exit and removes its temp dir. Safe to call twice. */
  stop(): Promise<void>
}

export interface RedisCluster {
  readonly nodes: readonly RedisServer[]
  /** For `createCluster({ rootNodes })`. */
  readonly rootNodes: ReadonlyArray<{ url: string }>
  stop(): Promise<void>
}

export interface StartRedisOptions {
  /** Extra `--name value` arguments for redis-server. */
  args?: readonly string[]
}

// ---------------------------------------------------------------- availability

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue
    const candidate = join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

function serverBin(): string | undefined {
  const fromEnv = process.env.REDIS_SERVER_BIN
  if (fromEnv) {
    try {
      accessSync(fromEnv, constants.X_OK)
      return fromEnv
    } catch {
      return undefined
    }
  }
  return findOnPath('redis-server')
}

function cliBin(): string {
  const server = serverBin()
  const beside = server && join(dirname(server), 'redis-cli')
  if (beside) {
    try {
      accessSync(beside, constants.X_OK)
      return beside
    } catch {
      // fall through to PATH
    }
  }
  const found = findOnPath('redis-cli')
  if (!found) throw new Error('@herd/testing: redis-cli not found (needed to form a cluster)')
  return found
}

/** Whether a `redis-server` binary is available (REDIS_SERVER_BIN, or PATH). */
export function redisAvailable(): boolean {
  return serverBin() !== undefined
}

let warned = false

/**
 * The gate for suites that need a real Redis: true when redis-server is
 * available. When it isn't: throws if HERD_REQUIRE_REDIS=1, otherwise prints
 * a loud banner (once per process) and returns false, for `describe.skipIf`.
 */
export function redisReady(): boolean {
  if (redisAvailable()) return true
  const why = process.env.REDIS_SERVER_BIN ? `REDIS_SERVER_BIN=${process.env.REDIS_SERVER_BIN} is not an executable` : 'redis-server is not on PATH'
  if (process.env.HERD_REQUIRE_REDIS === '1') {
    throw new Error(`@herd/testing: ${why}, and HERD_REQUIRE_REDIS=1 says Redis suites must run. Install redis-server (apt-get install redis-server).`)
  }
  if (!warned) {
    warned = true
    const line = '!'.repeat(78)
    console.warn(
      `\n${line}\n!! SKIPPING REDIS SUITES: ${why}.\n!! Nothing that needs Redis was tested. Set HERD_REQUIRE_REDIS=1 to make this an error.\n${line}\n`,
    )
  }
  return false
}

// ---------------------------------------------------------------- processes

/** Servers started and not yet stopped, with their temp dirs. */
const running = new Map<ChildProcess, string>()
let exitHookInstalled = false

function track(child: ChildProcess, dir: string): void {
  running.set(child, dir)
  child.once('exit', () => running.delete(child))
  if (!exitHookInstalled) {
    exitHookInstalled = true
    // Last resort for a test run that dies before its afterAll: no orphan servers, no temp dirs.
    process.once('exit', () => {
      for (const [c, d] of running) {
        c.kill('SIGKILL')
        rmSync(d, { recursive: true, force: true })
      }
    })
  }
}

/** A port nobody listens on right now (the kernel's pick). Another process may take it first: callers retry. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, REDIS_HOST, () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** One RESP command over a fresh socket; replies that are arrays are not needed here. */
function rawCommand(port: number, args: readonly string[], timeoutMs = 2_000): Promise<string | number | null> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: REDIS_HOST, port })
    let buffer = Buffer.alloc(0)
    const done = (error: Error | undefined, value?: string | number | null) => {
      clearTimeout(timer)
      socket.destroy()
      if (error) reject(error)
      else resolve(value ?? null)
    }
    const timer = setTimeout(() => done(new Error(`no reply from 127.0.0.1:${port} within ${timeoutMs} ms`)), timeoutMs)
    socket.once('error', (error) => done(error))
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk])
      const end = buffer.indexOf('\r\n')
      if (end < 0) return
      const type = String.fromCharCode(buffer[0]!)
      const head = buffer.subarray(1, end).toString()
      if (type === '+' || type === '-') return done(undefined, head)
      if (type === ':') return done(undefined, Number(head))
      if (type === '$') {
        const length = Number(head)
        if (length < 0) return done(undefined, null)
        if (buffer.length < end + 2 + length) return
        return done(undefined, buffer.subarray(end + 2, end + 2 + length).toString())
      }
      done(new Error(`unexpected reply type ${type} from 127.0.0.1:${port}`))
    })
    socket.write(args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).reduce((s, a) => s + a, `*${args.length}\r\n`))
  })
}

async function waitForPing(port: number, child: ChildProcess, logFile: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server on port ${port} exited during startup:\n${readLog(logFile)}`)
    }
    try {
      if ((await rawCommand(port, ['PING'], 500)) === 'PONG') return
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms:\n${readLog(logFile)}`)
    await sleep(20)
  }
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n')
  } catch {
    return '(no log)'
  }
}

class ServerProcess implements RedisServer {
  readonly host = REDIS_HOST
  readonly url: string
  private child: ChildProcess | undefined
  private stopped = false

  constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly args: readonly string[],
  ) {
    this.url = `redis://${REDIS_HOST}:${port}`
  }

  get pid(): number | undefined {
    return this.child?.pid
  }

  private get logFile(): string {
    return join(this.dir, 'redis.log')
  }

  async start(): Promise<void> {
    const bin = serverBin()
    if (!bin) throw new Error('@herd/testing: redis-server not found')
    const child = spawn(
      bin,
      [
        '--port',
        String(this.port),
        '--bind',
        REDIS_HOST,
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.dir,
        '--logfile',
        this.logFile,
        '--daemonize',
        'no',
        ...this.args,
      ],
      { stdio: 'ignore' },
    )
    this.child = child
    track(child, this.dir)
    try {
      await waitForPing(this.port, child, this.logFile)
    } catch (error) {
      await this.kill()
      throw error
    }
  }

  async kill(): Promise<void> {
    const child = this.child
    if (!child) return
    this.child = undefined
    child.kill('SIGCONT') // a paused server can't die of SIGKILL until resumed on some kernels
    child.kill('SIGKILL')
    await exited(child)
  }

  pause(): void {
    this.child?.kill('SIGSTOP')
  }

  resume(): void {
    this.child?.kill('SIGCONT')
  }

  async restart(): Promise<void> {
    if (this.stopped) throw new Error('@herd/testing: restart() after stop()')
    await this.kill()
    await this.start()
  }

  command(...args: string[]): Promise<string | number | null> {
    return rawCommand(this.port, args)
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    const child = this.child
    if (child) {
      this.child = undefined
      child.kill('SIGCONT')
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await exited(child)
      clearTimeout(timer)
    }
    rmSync(this.dir, { recursive: true, force: true })
  }
}

async function startOn(args: readonly string[], pickExtraPort?: (port: number) => Promise<readonly string[]>): Promise<ServerProcess> {
  let lastError: unknown
  // The free port may be taken between our probe and redis' bind: try a few.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort()
    const extra = pickExtraPort ? await pickExtraPort(port) : []
    const dir = mkdtempSync(join(tmpdir(), 'herd-redis-'))
    const server = new ServerProcess(port, dir, [...args, ...extra])
    try {
      await server.start()
      return server
    } catch (error) {
      lastError = error
      await server.stop()
    }
  }
  throw lastError
}

/** Starts a standalone redis-server on a free 127.0.0.1 port. */
export function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  return startOn(options.args ?? [])
}

/**
 * Starts `masters` cluster-enabled nodes, joins them with
 * `redis-cli --cluster create … --cluster-replicas 0`, and waits until every
 * node reports cluster_state:ok.
 */
export async function startRedisCluster(options: { masters?: number } = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3
  if (masters < 3) throw new Error('@herd/testing: a Redis Cluster needs at least 3 masters')
  const nodes: ServerProcess[] = []
  const rootNodes: Array<{ url: string }> = []
  const cluster: RedisCluster = {
    nodes,
    rootNodes,
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()))
    },
  }
  try {
    for (let i = 0; i < masters; i++) {
      nodes.push(
        await startOn(
          // nodes.conf lands in the node's own temp dir (--dir).
          ['--cluster-enabled', 'yes', '--cluster-node-timeout', '3000'],
          async () => ['--cluster-port', String(await freePort())],
        ),
      )
    }
    await runCli(['--cluster', 'create', ...nodes.map((n) => `${REDIS_HOST}:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'])
    const deadline = Date.now() + 20_000
    for (const node of nodes) {
      for (;;) {
        const info = String(await node.command('CLUSTER', 'INFO'))
        if (info.includes('cluster_state:ok')) break
        if (Date.now() > deadline) throw new Error(`cluster node ${node.port} not ok:\n${info}`)
        await sleep(50)
      }
    }
    rootNodes.push(...nodes.map((n) => ({ url: n.url })))
    return cluster
  } catch (error) {
    await cluster.stop()
    throw error
  }
}

function runCli(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cliBin(), args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout!.on('data', (d) => (output += d))
    child.stderr!.on('data', (d) => (output += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.once('error', reject)
    child.once('exit', (code) => {
      clearTimeout(timer)
      if (code === 0) resolve()
      else reject(new Error(`redis-cli ${args.join(' ')} exited with ${code}:\n${output}`))
    })
  })
}
