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
