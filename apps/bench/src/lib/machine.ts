import { execFileSync } from 'node:child_process'
import { cpus, freemem, loadavg, totalmem, release, platform } from 'node:os'
import { type HerdCode, herdCode } from './herd-code.js'

export interface Machine {
  cpu: string
  cores: number
  memoryGb: number
  freeMemoryGb: number
  os: string
  node: string
  v8: string
  redis: string | undefined
  commit: string | undefined
  dirty: boolean
  /** Absent in results written before it was recorded (those ran the sources through tsx). */
  herd?: HerdCode
}

function run(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5_000 }).trim()
  } catch {
    return undefined
  }
}

export function machine(): Machine {
  const list = cpus()
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    freeMemoryGb: Math.round(freemem() / 2 ** 30),
    os: `${platform()} ${release()}`,
    node: process.version,
    v8: process.versions.v8,
    redis: run('redis-server', ['--version'])?.match(/v=(\S+)/)?.[1],
    commit: run('git', ['rev-parse', '--short', 'HEAD']),
    dirty: (run('git', ['status', '--porcelain', '--', '.', '../../packages']) ?? '') !== '',
    herd: herdCode,
  }
}

/** The 1-minute load average: above the core count, other work is competing with the benchmark. */
export function load1(): number {
  return Math.round(loadavg()[0]! * 100) / 100
}
