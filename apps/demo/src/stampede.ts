import type { BurstMode } from './catalog.js'
import { describeSetup, type Running } from './fleet/single.js'
import type { BurstResult } from './fleet/types.js'

const SCENARIOS: ReadonlyArray<{ label: string; protect: boolean; mode: BurstMode }> = [
  { label: 'no protection (cache-aside)', protect: false, mode: 'expired' },
  { label: 'herd, key expired (SWR)', protect: true, mode: 'expired' },
  { label: 'herd, key gone (cold miss)', protect: true, mode: 'cold' },
]

/** The dashboard's bursts, headless: one per scenario, then the comparison as a table. */
export async function runStampede(running: Running, count: number, print: (line: string) => void = console.log): Promise<BurstResult[]> {
  print(`${count} concurrent GET requests at the just-expired hot key "${running.hub.info.hotKey}"`)
  print(`${describeSetup(running.hub.info)}\n`)
  const results: BurstResult[] = []
  for (const scenario of SCENARIOS) {
    results.push(await running.hub.burst({ protect: scenario.protect, mode: scenario.mode, count }))
  }
  print(
    table(
      ['scenario', 'db queries', 'ok', 'failed', 'burst ms', 'p50 ms', 'p99 ms'],
      results.map((r, i) => [SCENARIOS[i]!.label, r.queries, r.ok, r.failed, r.durationMs, r.latency.p50, r.latency.p99]),
    ),
  )
  return results
}

function table(head: string[], rows: Array<Array<string | number>>): string {
  const cells = [head, ...rows].map((row) => row.map(String))
  const widths = head.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)))
  const line = (row: string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('   ')
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('   '), ...cells.slice(1).map(line)].join('\n')
}
