import { METRICS, type MetricDefinition } from '../../src/names.js'

/** What a scrape of Prometheus' text format holds: every sample's name, and every label name. */
export interface Scrape {
  samples: Set<string>
  labels: Set<string>
}

export function parseScrape(text: string): Scrape {
  const samples = new Set<string>()
  const labels = new Set<string>()
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? /.exec(line)
    if (match === null) continue // comments (# HELP, # TYPE, # UNIT) and blank lines
    samples.add(match[1]!)
    for (const label of (match[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) labels.add(label[1]!)
  }
  return { samples, labels }
}

/** The sample names the OpenTelemetry Prometheus exporter gives an instrument (dots become underscores; counters end in _total). */
export function prometheusSamples(metric: MetricDefinition): string[] {
  const base = metric.name.replaceAll('.', '_')
  if (metric.kind === 'counter') return [`${base}_total`]
  if (metric.kind === 'histogram') return [`${base}_bucket`, `${base}_sum`, `${base}_count`]
  return [base]
}

export const ALL_METRICS: readonly MetricDefinition[] = Object.values(METRICS)

/** The metric names and label names a PromQL expression uses (label names: in matchers and in by/without clauses). */
export function promqlNames(expr: string): { metrics: string[]; labels: string[] } {
  const labels: string[] = []
  const grouping = /\b(?:by|without)\s*\(([^)]*)\)/g
  for (const [, list] of expr.matchAll(grouping))
    labels.push(
      ...list!
        .split(',')
        .map((l) => l.trim())
        .filter(Boolean),
    )
  const matchers = /\{([^}]*)\}/g
  for (const [, list] of expr.matchAll(matchers)) for (const [, name] of list!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) labels.push(name!)
  const bare = expr
    .replace(grouping, ' ')
    .replace(matchers, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/"[^"]*"/g, ' ')
  const functions = new Set(['sum', 'rate', 'increase', 'histogram_quantile', 'max', 'min', 'avg', 'count', 'by', 'without', 'le'])
  const metrics = [...bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)].map((m) => m[0]).filter((name) => !functions.has(name))
  return { metrics, labels }
}
