import { randomUUID } from 'node:crypto'
import { afterEach, beforeEach } from 'vitest'

/** Returns (or resolves) an adapter for one test. */
export type Factory<T> = () => T | Promise<T>

export interface SuiteOptions<T> {
  /**
   * Runs after each test for every distinct adapter the factory gave, e.g. to
   * close the client you opened in the factory. Default: `adapter.close?.()`.
   */
  teardown?: (adapter: T) => unknown
  /** Start of every key the suite uses; each test appends its own unique part. Default `'herd-conformance:'`. */
  keyPrefix?: string
}

interface Closable {
  close?(): Promise<void>
}

export interface PerTest<T> {
  /** A key unique to the running test, so tests against a shared backend (a real Redis) never see each other's state. */
  key(name: string): string
  /** Calls the factory; what it gives is torn down after the test. */
  create(): Promise<T>
  /** Runs `cleanup` after the test, before teardown (e.g. unsubscribing from a bus about to close). */
  defer(cleanup: () => unknown): void
}

/** Registers the hooks every suite needs: a fresh key prefix per test and teardown of what the test created. */
export function perTest<T extends Closable>(factory: Factory<T>, options: SuiteOptions<T> = {}): PerTest<T> {
  const teardown = options.teardown ?? ((adapter: T) => adapter.close?.())
  let prefix = ''
  let created: T[] = []
  let deferred: Array<() => unknown> = []

  beforeEach(() => {
    prefix = `${options.keyPrefix ?? 'herd-conformance:'}${randomUUID()}:`
  })

  // One hook doing both, in this order, whatever order the user's vitest runs hooks in.
  afterEach(async () => {
    const cleanups = deferred
    deferred = []
    await Promise.all(cleanups.map(async (cleanup) => cleanup()))
    // A factory may hand out one shared instance (a memory bus): tear it down once.
    const adapters = [...new Set(created)]
    created = []
    await Promise.all(adapters.map(async (adapter) => teardown(adapter)))
  })

  return {
    key: (name) => prefix + name,
    async create() {
      const adapter = await factory()
      created.push(adapter)
      return adapter
    },
    defer(cleanup) {
      deferred.push(cleanup)
    },
  }
}

export const PENDING: unique symbol = Symbol('pending')

/** What `promise` resolves to within `ms`, or PENDING if it hasn't settled by then. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof PENDING> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<typeof PENDING>((resolve) => {
    timer = setTimeout(resolve, ms, PENDING)
  })
  try {
    return await Promise.race([promise, deadline])
  } finally {
    clearTimeout(timer)
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** `fn`'s result and how long it took in ms. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const start = performance.now()
  const result = await fn()
  return { result, ms: performance.now() - start }
}
