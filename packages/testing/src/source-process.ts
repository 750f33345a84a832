/**
 * Child processes that run the workspace's TypeScript sources, as the tests in
 * the parent do: `@herd/*` packages resolve to their `src/` through the
 * `@herd/source` export condition, and tsx compiles TypeScript as it loads.
 * Nothing is built or bundled first. For this repository's tests and tools
 * (tsx must be installed).
 */
import { type ChildProcess, type ForkOptions, fork } from 'node:child_process'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

/** The export condition every @herd/* package maps to its `src/` entry point. */
export const SOURCE_CONDITION = '@herd/source'

/** Node flags for a process that runs sources: `node ...sourceExecArgv file.ts`. Workers and cluster forks inherit them. */
export const sourceExecArgv: readonly string[] = [
  `--conditions=${SOURCE_CONDITION}`,
  '--import',
  pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href,
]

/** `fork()` of a `.ts` or `.mjs` file with {@link sourceExecArgv} (and `options.execArgv` after them; not the parent's flags). */
export function forkSource(file: string, args: readonly string[] = [], options: ForkOptions = {}): ChildProcess {
  return fork(file, args, { ...options, execArgv: [...sourceExecArgv, ...(options.execArgv ?? [])] })
}

/** A child's combined stdout and stderr as it comes, and its exit. */
export interface WatchedOutput {
  /** Everything printed so far. */
  output(): string
  /** Resolves once the output matches `pattern`; rejects if the process exits first. */
  printed(pattern: string | RegExp): Promise<void>
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Collects what a child started with `stdio: 'pipe'` prints, so a test can wait for a line instead of a time. */
export function watchOutput(child: ChildProcess): WatchedOutput {
  let output = ''
  const waiting: Array<{ matches: () => boolean; resolve: () => void }> = []
  const onData = (chunk: Buffer) => {
    output += chunk
    for (const w of waiting.filter((w) => w.matches())) {
      waiting.splice(waiting.indexOf(w), 1)
      w.resolve()
    }
  }
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  return {
    output: () => output,
    exit,
    printed(pattern) {
      const matches = () => (typeof pattern === 'string' ? output.includes(pattern) : pattern.test(output))
      if (matches()) return Promise.resolve()
      return Promise.race([
        new Promise<void>((resolve) => waiting.push({ matches, resolve })),
        exit.then(({ code, signal }) => Promise.reject(new Error(`exited (${signal ?? code}) before printing ${pattern}:\n${output}`))),
      ])
    },
  }
}
