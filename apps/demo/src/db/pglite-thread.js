// The embedded database's own thread. PGlite runs Postgres compiled to WASM
// synchronously on the thread that calls it; on the service's main thread
// every query would freeze the event loop (no request parsed, no SSE sent)
// for as long as the query runs. Here it runs beside the service the way a
// database server would: the main thread only waits for the answer.
//
// Plain JS so the same file runs from src/ (tests) and dist/ (the build).
// Messages: { id, sql, params?, exec? } in; { id, rows } or { id, error } out.
import { parentPort } from 'node:worker_threads'
import { PGlite } from '@electric-sql/pglite'

const db = await PGlite.create()

parentPort.on('message', async (message) => {
  if (message === 'close') {
    await db.close()
    parentPort.close()
    return
  }
  const { id, sql, params, exec } = message
  try {
    // exec runs a script of several statements (schema, seed); query runs one with parameters.
    const rows = exec ? ((await db.exec(sql)).at(-1)?.rows ?? []) : (await db.query(sql, params)).rows
    parentPort.postMessage({ id, rows })
  } catch (error) {
    parentPort.postMessage({ id, error: { message: error?.message ?? String(error), code: error?.code } })
  }
})

parentPort.postMessage({ ready: true })
