// The one JavaScript build of every published package: `tsup --config ../../tsup.config.ts`, run in the
// package's folder. esbuild bundles each entry point (every export's `@herd/source` condition in package.json)
// as ESM (`dist/*.js`) and CJS (`dist/*.cjs`). Declarations come from scripts/emit-declarations.ts, one
// TypeScript program for every package (turbo's root `types` task), into the same dist/.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { defineConfig } from 'tsup'
import { SOURCE_CONDITION, sourceEntries } from './scripts/source-entries.js'

export default defineConfig(() => {
  const entries = sourceEntries(JSON.parse(readFileSync('package.json', 'utf8')))
  if (entries.length === 0) throw new Error(`no "${SOURCE_CONDITION}" condition in ${resolve('package.json')}'s exports`)
  return {
    entry: Object.fromEntries(entries.map((e) => [e.name, e.file])),
    format: ['esm', 'cjs'],
    // JavaScript only: the declarations beside it are the types task's, which turbo may run before this build or
    // during it. tsup's clean removes `**/*` and takes this list as extra patterns: the negations keep them.
    clean: ['!**/*.d.ts', '!**/*.d.cts'],
    sourcemap: true,
    target: 'node20',
    // import.meta.url in the CJS build (the test helpers resolve files next to themselves).
    shims: true,
  }
})
