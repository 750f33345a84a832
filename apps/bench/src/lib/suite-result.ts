import { load1 } from './machine.js'
import type { SuiteResult } from './report.js'

/** Starts the clock and the load reading for a suite; `finish` fills in the rest. */
export function begin(name: string, title: string) {
  const startedAt = new Date().toISOString()
  const t0 = performance.now()
  const loadStart = load1()
  return {
    finish(result: Omit<SuiteResult, 'name' | 'title' | 'startedAt' | 'durationMs' | 'load'>): SuiteResult {
      return { name, title, startedAt, durationMs: Math.round(performance.now() - t0), load: { start: loadStart, end: load1() }, ...result }
    },
  }
}
