import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT, blocks, readmes, withSamples } from './readme-samples.js'

const TYPESCRIPT = new Set(['ts', 'typescript', 'js', 'javascript'])

describe.each(readmes())('%s', (readme) => {
  it('names a checked sample file above every TypeScript block', () => {
    const unmarked = blocks(readme).filter((b) => TYPESCRIPT.has(b.language) && b.file === undefined)
    expect(
      unmarked.map((b) => `${b.readme}:${b.line}`),
      'add <!-- sample: docs/samples/src/NAME.ts --> above the block',
    ).toEqual([])
  })

  it("shows each sample file's text exactly (pnpm --filter @herd/samples sync rewrites them)", () => {
    expect(readFileSync(join(ROOT, readme), 'utf8')).toBe(withSamples(readme))
  })
})
