/** What a suite returns, and how it is shown: aligned tables on the console, GitHub tables in markdown. */

export type Cell = string | number

export interface Table {
  title: string
  columns: string[]
  rows: Cell[][]
  /** Printed under the table: how to read it, what was measured. */
  notes?: string[]
}

export interface TargetCheck {
  /** What the issue asks of herd, e.g. "exactly 1 loader call (1,000 callers)". */
  target: string
  /** What herd did, formatted. */
  measured: string
  /** true met, false missed, null not measured in this run. */
  met: boolean | null
}

export interface SuiteResult {
  /** Short name used on the command line, e.g. 'stampede'. */
  name: string
  title: string
  /** Suite settings actually used (rounds, callers, durations…), for reproducing. */
  settings: Record<string, unknown>
  /** How every contender was configured. */
  contenders: Array<{ name: string; config: string }>
  tables: Table[]
  targets: TargetCheck[]
  notes: string[]
  /** Raw per-round numbers. */
  data: unknown
  startedAt: string
  durationMs: number
  /** Load average (1 min) when the suite started and ended. */
  load: { start: number; end: number }
  /** Set when the suite could not run (e.g. no redis-server); tables are then empty. */
  skipped?: string
}

function widths(table: Table): number[] {
  return table.columns.map((c, i) => Math.max(c.length, ...table.rows.map((r) => String(r[i] ?? '').length)))
}

export function renderConsole(table: Table): string {
  const w = widths(table)
  const line = (cells: Cell[]) => cells.map((c, i) => (i === 0 ? String(c).padEnd(w[i]!) : String(c).padStart(w[i]!))).join('  ')
  const out = [`\n  ${table.title}`, `  ${line(table.columns)}`, `  ${w.map((n) => '─'.repeat(n)).join('  ')}`]
  for (const row of table.rows) out.push(`  ${line(row)}`)
  for (const note of table.notes ?? []) out.push(`  · ${note}`)
  return out.join('\n')
}

const escape = (cell: Cell) => String(cell).replace(/\|/g, '\\|')

export function renderMarkdown(table: Table, level = '####'): string {
  const out = [`${level} ${table.title}`, '']
  out.push(`| ${table.columns.map(escape).join(' | ')} |`)
  out.push(`| ${table.columns.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`)
  for (const row of table.rows) out.push(`| ${row.map(escape).join(' | ')} |`)
  if (table.notes?.length) {
    out.push('')
    for (const note of table.notes) out.push(`- ${note}`)
  }
  return out.join('\n')
}

export function renderTargets(targets: readonly TargetCheck[]): Table {
  return {
    title: 'Targets for herd',
    columns: ['target', 'measured', 'met'],
    rows: targets.map((t) => [t.target, t.measured, t.met === null ? 'not measured' : t.met ? 'yes' : '**no**']),
  }
}
