import { Worker } from 'node:worker_threads'
import type { Driver } from './database.js'

interface Reply {
  id?: number
  ready?: boolean
  rows?: Record<string, unknown>[]
  error?: { message: string; code?: string }
}

/**
 * PGlite (Postgres in WASM, in memory) on a worker thread of this process.
 * PGlite is one connection: it runs one statement at a time, whatever the
 * budget in front of it lets through, the way a one-core database server
 * would. The data lives as long as the process.
 */
export async function pgliteDriver(): Promise<Driver> {
  // Same directory in src/ (run by tests through vitest or tsx) and in dist/ (tsup emits it beside cli.js).
  const worker = new Worker(new URL('./pglite-thread.js', import.meta.url))
  const pending = new Map<number, { resolve: (rows: Record<string, unknown>[]) => void; reject: (error: Error) => void }>()
  let nextId = 0
  let failure: Error | undefined

  const ready = new Promise<void>((resolve, reject) => {
    worker.on('message', (reply: Reply) => {
      if (reply.ready) return resolve()
      const call = pending.get(reply.id!)
      if (!call) return
      pending.delete(reply.id!)
      if (reply.error) call.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }))
      else call.resolve(reply.rows ?? [])
    })
    const fail = (error: Error) => {
      failure ??= error
      reject(failure)
      for (const call of pending.values()) call.reject(failure)
      pending.clear()
    }
    worker.on('error', fail)
    worker.on('exit', (code) => fail(new Error(`the database thread exited (${code})`)))
  })
  await ready

  function send(sql: string, params: readonly unknown[], exec: boolean): Promise<Record<string, unknown>[]> {
    if (failure) return Promise.reject(failure)
    const id = nextId++
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject })
      worker.postMessage({ id, sql, params, exec })
    })
  }

  return {
    description: 'PGlite (embedded Postgres, WASM, one connection)',
    query: (sql, params) => send(sql, params, false),
    exec: async (sql) => {
      await send(sql, [], true)
    },
    async close() {
      const exited = new Promise((resolve) => worker.once('exit', resolve))
      worker.postMessage('close')
      // A thread stuck in a query can't answer 'close'; don't hang shutdown on it.
      const timer = setTimeout(() => void worker.terminate(), 2_000)
      await exited
      clearTimeout(timer)
    },
  }
}
