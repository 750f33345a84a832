// The one build of every published package: `tsup --config ../../tsup.config.ts`, run in the package's folder.
//
// JavaScript: esbuild, ESM (`dist/*.js`) and CJS (`dist/*.cjs`), one bundle per entry point.
// Types: one declaration-only emit per package by the TypeScript compiler, without type checking
// (`noCheck`: the `typecheck` task checks; emitting alone is a fraction of the time), written twice:
// `*.d.ts` for `import` and `*.d.cts` for `require`, so each resolution mode sees its own format.
// The entry points come from package.json: every export's `@herd/source` condition (its src file).
import { readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import ts from 'typescript'
import { defineConfig } from 'tsup'

interface PackageJson {
  exports: Record<string, string | Record<string, unknown>>
}

const SOURCE_CONDITION = '@herd/source'

/** `{ 'redis-server': 'src/redis-server.ts', ... }` from the exports' source condition. */
function entryPoints(pkg: PackageJson): Record<string, string> {
  const entries: Record<string, string> = {}
  for (const target of Object.values(pkg.exports)) {
    if (typeof target !== 'object') continue
    const source = target[SOURCE_CONDITION]
    if (typeof source !== 'string') continue
    const file = relative('.', source)
    entries[relative('src', file).replace(/\.ts$/, '')] = file
  }
  if (Object.keys(entries).length === 0) throw new Error(`no "${SOURCE_CONDITION}" condition in ${resolve('package.json')}'s exports`)
  return entries
}

/** `./x.js` → `./x.cjs` in relative specifiers, so a `.d.cts` file imports its `.d.cts` siblings. */
function toCommonJsDeclaration(text: string): string {
  return text.replace(/(['"])(\.{1,2}\/[^'"]*?)\.js\1/g, '$1$2.cjs$1')
}

async function emitDeclarations(entries: string[]): Promise<void> {
  const config = ts.getParsedCommandLineOfConfigFile('tsconfig.json', undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'))
    },
  })
  if (!config) throw new Error(`cannot read ${resolve('tsconfig.json')}`)
  const options: ts.CompilerOptions = {
    ...config.options,
    noEmit: false,
    declaration: true,
    emitDeclarationOnly: true,
    noCheck: true,
    rootDir: resolve('src'),
    outDir: resolve('dist'),
    // Other packages' types come from their built declarations, never from their sources.
    customConditions: [],
  }
  // Every file's declarations, then only those the entry points reach: internal modules stay out of the package.
  const emitted = new Map<string, string>()
  const program = ts.createProgram(entries.map((e) => resolve(e)), options)
  const result = program.emit(undefined, (path, text) => emitted.set(resolve(path), text), undefined, true)
  const reached = new Set<string>()
  const queue = entries.map((e) => resolve('dist', relative('src', e)).replace(/\.ts$/, '.d.ts'))
  for (let path = queue.pop(); path !== undefined; path = queue.pop()) {
    const text = emitted.get(path)
    if (text === undefined || reached.has(path)) continue
    reached.add(path)
    for (const [, specifier] of text.matchAll(/(?:from|import\()\s*['"](\.{1,2}\/[^'"]+)\.js['"]/g)) {
      queue.push(resolve(dirname(path), `${specifier}.d.ts`))
    }
  }
  await Promise.all(
    [...reached].map(async (path) => {
      const text = emitted.get(path)!
      await mkdir(dirname(path), { recursive: true })
      await writeFile(path, text)
      await writeFile(path.replace(/\.d\.ts$/, '.d.cts'), toCommonJsDeclaration(text))
    }),
  )
  const errors = result.diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error)
  if (errors.length > 0) {
    throw new Error(ts.formatDiagnostics(errors, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => process.cwd(), getNewLine: () => '\n' }))
  }
}

export default defineConfig(() => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as PackageJson
  const entry = entryPoints(pkg)
  return {
    entry,
    format: ['esm', 'cjs'],
    clean: true,
    sourcemap: true,
    target: 'node20',
    // import.meta.url in the CJS build (the test helpers resolve files next to themselves).
    shims: true,
    // quick-lru is ESM-only; bundling it keeps the CJS builds of core and memory loadable and their packages
    // free of runtime dependencies (its MIT notice ships in their THIRD_PARTY_NOTICES).
    noExternal: ['quick-lru'],
    onSuccess: () => emitDeclarations(Object.values(entry).map((file) => join('.', file))),
  }
})
