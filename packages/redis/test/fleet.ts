import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { forkSource } from '@herd/testing/source-process'
import { afterEach } from 'vitest'
import type { Endpoints, Target } from './clients.js'

const WORKER = fileURLToPath(new URL('./fixtures/herd-worker.mjs', import.meta.url))

export interface WorkerConfig {
  target: Pick<Target, 'library' | 'topology'>
  endpoints: Endpoints
  prefix: string
  /** createHerd options (JSON). */
  herd?: Record<string, unknown>
  /** redisBackend options beyond prefix and commandTimeout (JSON). */
  redis?: Record<string, unknown>
  commandTimeout?: number
}

/** A herd in a real child process (fixtures/herd-worker.mjs, on this package's src/). */
export class Worker {
  private readonly inbox: Array<{ type: string }> = []
  private readonly waiting: Array<{ type: string; resolve: (m: any) => void; reject: (e: Error) => void }> = []
  readonly exited: Promise<void>

  constructor(readonly child: ChildProcess) {
    child.on('message', (m: { type: string }) => {
      const i = this.waiting.findIndex((w) => w.type === m.type)
      if (i >= 0) this.waiting.splice(i, 1)[0]!.resolve(m)
      else this.inbox.push(m)
    })
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()))
    void this.exited.then(() => {
      for (const w of this.waiting.splice(0)) w.reject(new Error(`worker ${child.pid} exited while the test waited for "${w.type}"`))
    })
  }

  /**
   * The next message of `type` (already received, or the next to arrive), within `ms`. One that doesn't come
   * fails with what the worker says it is stuck on (its `dump`: keys still waited on, what inspect() says of them).
   */
  next<T = any>(type: string, ms = 45_000): Promise<T> {
    const i = this.inbox.findIndex((m) => m.type === type)
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0] as T)
    return this.arrival<T>(type, ms, async () => {
      throw new Error(`no "${type}" from worker ${this.child.pid} within ${ms} ms; ${await this.stuckOn()}`)
    })
  }

  /**
   * The next message of `type` to arrive. After `ms` the wait is withdrawn (a message arriving later doesn't count)
   * and `late()` settles it instead.
   */
  private arrival<T>(type: string, ms: number, late: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        type,
        resolve: (m: any) => {
          clearTimeout(timer)
          resolve(m)
        },
        reject: (e: Error) => {
          clearTimeout(timer)
          reject(e)
        },
      }
      const timer = setTimeout(() => {
        const at = this.waiting.indexOf(waiter)
        if (at >= 0) this.waiting.splice(at, 1)
        late().then(resolve, reject)
      }, ms)
      this.waiting.push(waiter)
    })
  }

  /** The worker's own account of what it waits on, or that it didn't give one (a blocked event loop). */
  private async stuckOn(): Promise<string> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return 'it has exited'
    const answer = this.arrival<unknown>('dump', 5_000, async () => undefined).catch(() => undefined)
    this.child.send({ cmd: 'dump' }, () => {})
    const dump = await answer
    return dump === undefined ? 'it gave no dump within 5 s either (a blocked event loop?)' : `it reports: ${JSON.stringify(dump)}`
  }

  send(message: Record<string, unknown>): void {
    this.child.send(message)
  }

  /** Asks the worker to close its herd and exit; SIGKILL if it doesn't within 3 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    this.child.send({ cmd: 'exit' }, () => {})
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3_000)
    await this.exited
    clearTimeout(timer)
  }
}

const live = new Set<Worker>()

/** Starts `count` workers and waits until each is connected and ready. */
export async function spawnWorkers(count: number, config: WorkerConfig): Promise<Worker[]> {
  const workers = Array.from({ length: count }, () => {
    const child = forkSource(WORKER, [JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    const worker = new Worker(child)
    live.add(worker)
    void worker.exited.then(() => live.delete(worker))
    return worker
  })
  await Promise.all(workers.map((w) => w.next('ready')))
  return workers
}

// No test leaves a process behind, pass or fail.
afterEach(async () => {
  await Promise.all([...live].map((w) => w.stop()))
})

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN
}
