/**
 * Child processes: TypeScript files run through tsx, loading herd as this
 * process does (see herd-code.ts). Every child is tracked and killed if the
 * parent exits early.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { SOURCE_CONDITION, sourceExecArgv } from '@herd/testing/source-process'
import { herdCode } from './herd-code.js'

/** tsx for the bench's own TypeScript; the `@herd/source` condition too where this process runs herd's sources. */
const childFlags: readonly string[] =
  herdCode === 'built packages' ? sourceExecArgv.filter((flag) => flag !== `--conditions=${SOURCE_CONDITION}`) : sourceExecArgv

const alive = new Set<ChildProcess>()
let hooked = false

export function spawnTs(file: string, execArgv: readonly string[] = [], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const child = fork(file, [], { execArgv: [...childFlags, ...execArgv], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env })
  alive.add(child)
  child.once('exit', () => alive.delete(child))
  if (!hooked) {
    hooked = true
    process.once('exit', () => {
      for (const c of alive) c.kill('SIGKILL')
    })
  }
  return child
}

/** Next IPC message that `accept` takes (others are left to other listeners), or rejects on exit/timeout. */
export function nextMessage<T>(child: ChildProcess, accept: (m: any) => m is T, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown) => {
      if ((m as { type?: string })?.type === 'failed') {
        cleanup()
        reject(new Error(`child ${child.pid} failed during ${what}: ${(m as { message: string }).message}`))
      } else if (accept(m)) {
        cleanup()
        resolve(m)
      }
    }
    const onExit = (code: number | null) => {
      cleanup()
      reject(new Error(`child ${child.pid} exited (${code}) during ${what}`))
    }
    const timer = setTimeout(() => {
      cleanup()
      reject(new Error(`child ${child.pid}: no answer within ${timeoutMs} ms during ${what}`))
    }, timeoutMs)
    const cleanup = () => {
      clearTimeout(timer)
      child.off('message', onMessage)
      child.off('exit', onExit)
    }
    child.on('message', onMessage)
    child.once('exit', onExit)
  })
}

/** Asks the child to exit, then kills it if it hasn't within `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 3_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  try {
    if (child.connected) child.send({ type: 'exit' })
  } catch {
    // already gone
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}
