import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { freePort } from '@herd/testing/redis-server'
import { sourceExecArgv, type WatchedOutput, watchOutput } from '@herd/testing/source-process'
import { afterEach, describe, expect, it } from 'vitest'

const DEMO_DIR = fileURLToPath(new URL('..', import.meta.url))
const ROOT = fileURLToPath(new URL('../../..', import.meta.url))

const live = new Set<ChildProcess>()
afterEach(() => {
  for (const child of live) if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL')
  live.clear()
})

/** A process in a process group of its own (as a terminal runs a command), its output watched. */
function start(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): WatchedOutput & { child: ChildProcess } {
  const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  live.add(child)
  return { child, ...watchOutput(child) }
}

/** A clean environment: a developer's REDIS_URL, DATABASE_URL or PORT must not leak in. */
function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  const { REDIS_URL, DATABASE_URL, PORT, KOA_PORT, WORKERS, ...rest } = process.env
  return { ...rest, ...extra }
}

describe('the demo CLI', () => {
  it('stops with a clear message and exit code 1 when REDIS_URL points at no Redis', async () => {
    const port = await freePort() // nothing listens there
    const demo = start(process.execPath, [...sourceExecArgv, 'src/cli.ts', '--port', '0'], DEMO_DIR, env({ REDIS_URL: `redis://127.0.0.1:${port}` }))
    const { code } = await demo.exit
    expect(code, demo.output()).toBe(1)
    expect(demo.output()).toContain(`herd demo: can't reach Redis at redis://127.0.0.1:${port}`)
    expect(demo.output()).toContain('unset REDIS_URL')
    expect(demo.output()).not.toMatch(/\n\s+at /) // a message, not a stack trace
  })

  it("README's `pnpm start`: Ctrl-C stops it cleanly, exit code 0 and no pnpm error", async () => {
    // pnpm as the tests were started with (npx -y pnpm@10 …), else the one on PATH.
    const execPath = process.env.npm_execpath
    const [command, args] = execPath && /pnpm/.test(execPath) ? [process.execPath, [execPath, 'start']] : ['pnpm', ['start']]
    const demo = start(command, args, ROOT, env({ PORT: '0' }))
    await demo.printed(/dashboard\s+http:\/\/\S+/)
    process.kill(-demo.child.pid!, 'SIGINT') // what a terminal's Ctrl-C does: SIGINT to the whole foreground group
    const { code, signal } = await demo.exit
    expect({ code, signal }, demo.output()).toEqual({ code: 0, signal: null })
    expect(demo.output()).not.toMatch(/ERR_PNPM|ELIFECYCLE/)
  })
})
