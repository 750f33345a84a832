/**
 * pnpm bench                      every suite
 * pnpm bench stampede swr         some suites (names or numbers 1–8)
 * pnpm bench --smoke              tiny settings: proves every suite runs, measures nothing
 * pnpm bench hotpath --rounds 9   more rounds (medians are reported)
 * pnpm bench --only herd,bentocache
 *
 * Prints each suite's tables as it finishes, and writes results/suites/<name>.json,
 * results/latest.json and results/latest.md (unless --smoke or --no-write).
 */
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { load1, machine } from './lib/machine.js'
import { renderConsole, renderTargets } from './lib/report.js'
import { saveSuite, writeLatest } from './lib/write.js'
import { SUITES, findSuite } from './suites/index.js'
import { herdCode } from './lib/herd-code.js'
import type { Suite } from './suites/types.js'

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'results')

function usage(message?: string): never {
  if (message) console.error(`bench: ${message}\n`)
  console.error(
    `usage: pnpm bench [suite…] [--rounds N] [--smoke] [--only name,name] [--no-write]\nsuites: ${SUITES.map((s) => `${s.name} (${s.aliases.join(', ')})`).join('; ')}`,
  )
  process.exit(message ? 2 : 0)
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => a !== '--')
  const picked: Suite[] = []
  let rounds: number | undefined
  let smoke = false
  let write = true
  let only: string[] | undefined
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === '--help' || a === '-h') usage()
    else if (a === '--smoke') smoke = true
    else if (a === '--no-write') write = false
    else if (a === '--rounds') {
      rounds = Number(args[++i])
      if (!Number.isInteger(rounds) || rounds < 1) usage('--rounds needs a whole number >= 1')
    } else if (a === '--only')
      only = (args[++i] ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    else if (a.startsWith('-')) usage(`unknown option ${a}`)
    else {
      const suite = findSuite(a)
      if (!suite) usage(`unknown suite "${a}"`)
      picked.push(suite)
    }
  }
  const suites = picked.length ? picked : [...SUITES]
  const m = machine()
  const command = `pnpm bench${args.length ? ` ${args.join(' ')}` : ''}`
  console.log(`herd bench — ${m.cpu}, ${m.cores} cores, Node ${m.node}, load ${load1()}${smoke ? ' (smoke: tiny settings, numbers mean nothing)' : ''}`)
  if (herdCode !== 'built packages' && !smoke)
    console.log(`warning: herd runs from its ${herdCode}, slower than what users install (lib/herd-code.ts): use pnpm bench`)
  if (load1() > m.cores * 0.75 && !smoke) console.log(`warning: load average ${load1()} on ${m.cores} cores: other work is running, expect noisy numbers`)
  for (const suite of suites) {
    const result = await suite.run({ smoke, rounds, only })
    console.log(`\n${result.title}${result.skipped ? ` — skipped: ${result.skipped}` : ''}`)
    for (const t of result.tables) console.log(renderConsole(t))
    if (result.targets.length) console.log(renderConsole(renderTargets(result.targets)))
    for (const n of result.notes) console.log(`  · ${n}`)
    if (write && !smoke) saveSuite(RESULTS, { ...result, machine: m, command })
  }
  if (write && !smoke) {
    const { json, md } = writeLatest(
      RESULTS,
      SUITES.map((s) => s.name),
    )
    console.log(`\nwrote ${relative(process.cwd(), json)} and ${relative(process.cwd(), md)}`)
  }
}

// Ctrl-C or a kill: exit through process.exit so the exit hooks stop every redis-server and child process.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\nbench: ${signal}, stopping servers and child processes`)
    process.exit(130)
  })
}

main().then(
  // Drivers that keep sockets or timers alive must not hold the process open.
  () => process.exit(0),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  },
)
