/**
 * Refreshes the numbers docs/benchmarks.md quotes: every block between
 * `<!-- bench:<suite> -->` and `<!-- /bench:<suite> -->` is replaced with
 * that suite's run line and tables from results/suites/<suite>.json. The
 * prose around the blocks is written by hand, so re-read it after a rerun.
 *
 *     pnpm --filter @herd/bench docs
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { renderMarkdown, renderTargets } from './lib/report.js'
import { loadSuites, type SuiteRecord } from './lib/write.js'
import { SUITES } from './suites/index.js'

const here = dirname(fileURLToPath(import.meta.url))
const DOC = join(here, '..', '..', '..', 'docs', 'benchmarks.md')
const RESULTS = join(here, '..', 'results')

function block(r: SuiteRecord): string {
  const when = r.startedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')
  const out = [
    `Run: \`${r.command}\` on ${when} — ${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node}${r.machine.redis ? `, redis-server ${r.machine.redis}` : ''}; load average ${r.load.start} → ${r.load.end}; commit ${r.machine.commit ?? '?'}${r.machine.dirty ? ' (+ uncommitted changes)' : ''}; herd from its ${r.machine.herd ?? 'sources (tsx)'}; took ${Math.round(r.durationMs / 1000)} s.`,
    '',
  ]
  if (r.skipped) out.push(`**Skipped:** ${r.skipped}`, '')
  for (const t of r.tables) out.push(renderMarkdown(t), '')
  if (r.targets.length) out.push(renderMarkdown(renderTargets(r.targets)), '')
  return out.join('\n')
}

const records = new Map(
  loadSuites(
    RESULTS,
    SUITES.map((s) => s.name),
  ).map((r) => [r.name, r]),
)
let doc = readFileSync(DOC, 'utf8')
let replaced = 0
doc = doc.replace(/<!-- bench:([a-z-]+) -->[\s\S]*?<!-- \/bench:\1 -->/g, (whole, name: string) => {
  const r = records.get(name)
  if (!r) return whole
  replaced++
  return `<!-- bench:${name} -->\n${block(r)}<!-- /bench:${name} -->`
})
doc = doc.replace(/<!-- targets -->[\s\S]*?<!-- \/targets -->/, () => {
  const rows = ['| suite | target | measured | met |', '| --- | --- | --- | --- |']
  for (const r of records.values()) {
    for (const t of r.targets)
      rows.push(`| ${r.title} | ${t.target} | ${t.measured.replace(/\|/g, '\\|')} | ${t.met === null ? 'not measured' : t.met ? 'yes' : '**no**'} |`)
  }
  return `<!-- targets -->\n${rows.join('\n')}\n<!-- /targets -->`
})
writeFileSync(DOC, doc)
console.log(`docs/benchmarks.md: refreshed ${replaced} suite block(s) from ${RESULTS}`)
