import type { SuiteResult } from '../lib/report.js'

export interface RunOptions {
  /** Tiny settings that finish in seconds: what the smoke tests and `--smoke` use. */
  smoke?: boolean
  /** Rounds per measurement (medians are reported); each suite has its own default. */
  rounds?: number
  /** Only these contenders (by name); default all. */
  only?: readonly string[]
}

export interface Suite {
  name: string
  /** Other names accepted on the command line. */
  aliases: readonly string[]
  title: string
  run(options: RunOptions): Promise<SuiteResult>
}
