/**
 * Real redis-server processes for tests: a standalone server, a Redis
 * Cluster, or a master with replicas watched by Sentinels, each process on a
 * free loopback port with a temp dir, stopped (and the dir removed) by `stop()`. No Redis client library needed: child_process to
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
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
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

/** The command line that starts one process: a redis-server, or a Sentinel. */
type Launch = (port: number, dir: string, logFile: string) => { bin: string; argv: string[] }

function serverLaunch(args: readonly string[]): Launch {
  return (port, dir, logFile) => {
    const bin = serverBin()
    if (!bin) throw new Error('@herd/testing: redis-server not found')
    const argv = [
      '--port',
      String(port),
      '--bind',
      REDIS_HOST,
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--logfile',
      logFile,
      '--daemonize',
      'no',
      ...args,
    ]
    return { bin, argv }
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
    private readonly launch: Launch,
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
    const { bin, argv } = this.launch(this.port, this.dir, this.logFile)
    const child = spawn(bin, argv, { stdio: 'ignore' })
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
  return startWith(async (port) => serverLaunch([...args, ...(pickExtraPort ? await pickExtraPort(port) : [])]))
}

async function startWith(launchFor: (port: number) => Promise<Launch>): Promise<ServerProcess> {
  let lastError: unknown
  // The free port may be taken between our probe and redis' bind: try a few.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort()
    const launch = await launchFor(port)
    const dir = mkdtempSync(join(tmpdir(), 'herd-redis-'))
    const server = new ServerProcess(port, dir, launch)
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
 * node reports cluster_state:ok. `args` go to every node.
 */
export async function startRedisCluster(options: StartRedisOptions & { masters?: number } = {}): Promise<RedisCluster> {
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
          ['--cluster-enabled', 'yes', '--cluster-node-timeout', '3000', ...(options.args ?? [])],
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

// ---------------------------------------------------------------- sentinel

export interface RedisSentinelSet {
  /** The name the Sentinels monitor the master under (`createSentinel({ name })`, ioredis' `name`). */
  readonly name: string
  /** The data nodes: the first master, then its replicas. */
  readonly servers: readonly RedisServer[]
  readonly sentinels: readonly RedisServer[]
  /** For node-redis' `sentinelRootNodes` and ioredis' `sentinels`. */
  readonly sentinelNodes: ReadonlyArray<{ host: string; port: number }>
  /** The data node the Sentinels currently call master. */
  master(): Promise<RedisServer>
  /**
   * SIGKILLs the current master (a crash) and resolves once every Sentinel
   * names a replica as the new master and it accepts writes. The old master
   * stays down until `restart()`ed (it then rejoins as a replica).
   */
  failover(timeoutMs?: number): Promise<{ from: RedisServer; to: RedisServer }>
  stop(): Promise<void>
}

function sentinelBin(): string | undefined {
  const server = serverBin()
  const beside = server && join(dirname(server), 'redis-sentinel')
  if (beside && existsSync(beside)) return beside
  return findOnPath('redis-sentinel')
}

/** Whether Sentinel suites can run: redis-server and redis-sentinel are both there. */
export function redisSentinelAvailable(): boolean {
  return redisAvailable() && sentinelBin() !== undefined
}

function sentinelLaunch(name: string, masterPort: number, quorum: number): Launch {
  return (port, dir, logFile) => {
    const bin = sentinelBin()
    if (!bin) throw new Error('@herd/testing: redis-sentinel not found (apt-get install redis-sentinel)')
    // Sentinel rewrites its config as it learns the topology: a file of its own, kept across restarts.
    const conf = join(dir, 'sentinel.conf')
    if (!existsSync(conf)) {
      writeFileSync(
        conf,
        [
          `sentinel monitor ${name} ${REDIS_HOST} ${masterPort} ${quorum}`,
          `sentinel down-after-milliseconds ${name} 1000`,
          `sentinel failover-timeout ${name} 5000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      )
    }
    return { bin, argv: [conf, '--port', String(port), '--bind', REDIS_HOST, '--dir', dir, '--logfile', logFile, '--daemonize', 'no'] }
  }
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      if (await check()) return
    } catch {
      // not there yet
    }
    if (Date.now() > deadline) throw new Error(`@herd/testing: ${what} within ${timeoutMs} ms`)
    await sleep(50)
  }
}

function infoField(info: unknown, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(String(info))?.[1]?.trim()
}

/**
 * A master, `replicas` replicas and `sentinels` Sentinels (quorum: a
 * majority), every process on 127.0.0.1, the master monitored as `name`.
 * Resolves once the replicas are in sync and every Sentinel sees the master,
 * its replicas and the other Sentinels.
 */
export async function startRedisSentinel(options: { name?: string; replicas?: number; sentinels?: number } = {}): Promise<RedisSentinelSet> {
  const name = options.name ?? 'herd'
  const replicaCount = options.replicas ?? 1
  const sentinelCount = options.sentinels ?? 3
  const servers: ServerProcess[] = []
  const sentinels: ServerProcess[] = []
  const stop = async () => {
    await Promise.all([...sentinels, ...servers].map((s) => s.stop()))
  }
  try {
    const first = await startOn([])
    servers.push(first)
    for (let i = 0; i < replicaCount; i++) servers.push(await startOn(['--replicaof', REDIS_HOST, String(first.port)]))
    for (const replica of servers.slice(1)) {
      await until(
        `replica ${replica.port} in sync`,
        20_000,
        async () => infoField(await replica.command('INFO', 'replication'), 'master_link_status') === 'up',
      )
    }
    const quorum = Math.floor(sentinelCount / 2) + 1
    for (let i = 0; i < sentinelCount; i++) sentinels.push(await startWith(async () => sentinelLaunch(name, first.port, quorum)))
    for (const sentinel of sentinels) {
      await until(`sentinel ${sentinel.port} to see the master, ${replicaCount} replicas and ${sentinelCount - 1} other sentinels`, 20_000, async () => {
        const line = infoField(await sentinel.command('INFO', 'sentinel'), 'master0') ?? ''
        return line.includes('status=ok') && line.includes(`slaves=${replicaCount}`) && line.includes(`sentinels=${sentinelCount}`)
      })
    }
  } catch (error) {
    await stop()
    throw error
  }
  const masterPort = async (sentinel: ServerProcess) =>
    Number(/address=[^:]+:(\d+)/.exec(infoField(await sentinel.command('INFO', 'sentinel'), 'master0') ?? '')?.[1])
  const set: RedisSentinelSet = {
    name,
    servers,
    sentinels,
    sentinelNodes: sentinels.map((s) => ({ host: REDIS_HOST, port: s.port })),
    async master() {
      const port = await masterPort(sentinels[0]!)
      const found = servers.find((s) => s.port === port)
      if (!found) throw new Error(`@herd/testing: the sentinels name an unknown master (port ${port})`)
      return found
    },
    async failover(timeoutMs = 30_000) {
      const from = await set.master()
      await from.kill()
      await until('a replica promoted by every sentinel', timeoutMs, async () => {
        const ports = await Promise.all(sentinels.map((s) => masterPort(s)))
        return ports.every((p) => p !== from.port && p === ports[0])
      })
      const to = await set.master()
      await until(
        `the new master ${to.port} to accept writes`,
        timeoutMs,
        async () => infoField(await to.command('INFO', 'replication'), 'role') === 'master',
      )
      return { from, to }
    },
    stop,
  }
  return set
}
