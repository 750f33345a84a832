import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'

// The conformance suites are only worth running if they fail a wrong
// adapter. test/fixtures/*.fixture.ts run them against memory adapters with
// one bug injected each; this file runs those in a child vitest and checks
// that each bug is caught by the test written for it.

/** Broken suite (as named in the fixtures) → titles of the tests that must fail for it. */
const CAUGHT_BY: Record<string, string[]> = {
  'ignores fences (Store conformance)': ['a lower fence is refused', 'keeps the fence'],
  'checks the fence, then writes (not atomic) (Store conformance)': ['concurrent sets with shuffled fences'],
  'drops the ttl on expire (Store conformance)': ['keeps the entry’s ttl'],
  'strips hash-tag braces from keys (Store conformance)': ['braces (Redis hash tags)'],
  'hands out the entry it holds (Store conformance)': ['hands out copies'],
  'two uncoordinated lock servers (Lock conformance)': ['concurrent acquires of one key give exactly one lease'],
  'releases whatever the token (Lock conformance)': ['release and extend with a wrong token'],
  'fence() is not monotonic (Lock conformance)': ['fences strictly increase'],
  'wait polls every 1.5 s (Lock conformance)': ['resolves true for every waiter soon after release'],
  'wait hands its timeout to setTimeout as it is (Lock conformance)': ['a timeout past what a Node timer holds'],
  'wait takes any timeoutMs (Lock conformance)': ['rejects a timeoutMs that is not a finite number'],
  'unsubscribe does nothing (Bus conformance)': ['unsubscribe stops delivery'],
  'reorders messages (Bus conformance)': ['arrive in the order they were published'],
  'drops the origin (Bus conformance)': ['every field intact'],
}

interface JsonReport {
  testResults: Array<{ assertionResults: Array<{ ancestorTitles: string[]; title: string; status: string }> }>
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** suite name → { test title → status } from one child vitest run of only the targeted tests. */
async function runFixtures(): Promise<Map<string, Map<string, string>>> {
  const directory = await mkdtemp(join(tmpdir(), 'herd-suites-'))
  const output = join(directory, 'report.json')
  const cli = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs')
  const pattern = [...new Set(Object.values(CAUGHT_BY).flat())].map(escape).join('|')
  const config = join(import.meta.dirname, 'fixtures', 'vitest.config.ts')
  try {
    // Exits non-zero by design (the broken adapters fail); the report says how.
    await new Promise<void>((resolve) => {
      execFile(process.execPath, [cli, 'run', '--config', config, '--reporter=json', `--outputFile=${output}`, '-t', pattern], () => resolve())
    })
    const report = JSON.parse(await readFile(output, 'utf8')) as JsonReport
    const suites = new Map<string, Map<string, string>>()
    for (const file of report.testResults) {
      for (const test of file.assertionResults) {
        const suite = test.ancestorTitles[0]!
        if (!suites.has(suite)) suites.set(suite, new Map())
        suites.get(suite)!.set(test.title, test.status)
      }
    }
    return suites
  } finally {
    await rm(directory, { recursive: true, force: true })
  }
}

describe('the conformance suites catch a broken adapter', () => {
  let suites: Map<string, Map<string, string>>
  beforeAll(async () => {
    suites = await runFixtures()
  }, 120_000)

  it.each(Object.entries(CAUGHT_BY))('%s', (suite, titles) => {
    const results = suites.get(suite)
    expect(results, `no results for ${suite}: did the fixture run?`).toBeDefined()
    for (const title of titles) {
      const matching = [...results!].filter(([name]) => name.includes(title))
      expect(matching, `no test titled "${title}" ran for ${suite}`).not.toHaveLength(0)
      for (const [name, status] of matching) expect(status, name).toBe('failed')
    }
  })
})
