// `pnpm build` (turbo's root `types` task): the declaration files of every published package, from ONE
// TypeScript program over all their sources (each file parsed once, @types/node included), without type
// checking (`noCheck`: the `typecheck` task checks). Each package gets the declarations its entry points reach,
// in dist/ beside tsup's JavaScript, twice: `*.d.ts` for `import` and `*.d.cts` for `require`.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { SOURCE_CONDITION, sourceEntries } from './source-entries.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** `./x.js` → `./x.cjs` in relative specifiers, so a `.d.cts` file imports its `.d.cts` siblings. */
function toCommonJs(text: string): string {
  return text.replace(/(['"])(\.{1,2}\/[^'"]*?)\.js\1/g, '$1$2.cjs$1')
}

/** packages/x/src/a/b.ts → packages/x/dist/a/b.d.ts */
function declarationOf(source: string): string {
  return source.replace(`${sep}src${sep}`, `${sep}dist${sep}`).replace(/\.ts$/, '.d.ts')
}

function removeDeclarations(dir: string): void {
  if (!existsSync(dir)) return
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && /\.d\.c?ts$/.test(entry.name)) rmSync(join(entry.parentPath, entry.name))
  }
}

const packages = readdirSync(join(ROOT, 'packages'))
  .map((name) => join(ROOT, 'packages', name))
  .map((dir) => ({ dir, entries: sourceEntries(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))).map((e) => resolve(dir, e.file)) }))
  .filter((pkg) => pkg.entries.length > 0)

const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.base.json'), undefined, {
  ...ts.sys,
  onUnRecoverableConfigFileDiagnostic: (d) => {
    throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'))
  },
})!
const program = ts.createProgram(
  packages.flatMap((pkg) => pkg.entries),
  {
    ...config.options,
    noEmit: false,
    declaration: true,
    emitDeclarationOnly: true,
    noCheck: true,
    // @herd/* imports resolve to the sources, which are in this program: one parse for every package.
    customConditions: [SOURCE_CONDITION],
    rootDir: ROOT,
    outDir: ROOT,
  },
)

// Declarations by source-relative path, then per package only those its entry points reach.
const emitted = new Map<string, string>()
const result = program.emit(undefined, (path, text) => emitted.set(resolve(path), text), undefined, true)
const errors = result.diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error)
if (errors.length > 0) {
  console.error(ts.formatDiagnostics(errors, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => '\n' }))
  process.exit(1)
}

const writes: Array<Promise<void>> = []
for (const pkg of packages) {
  const reached = new Set<string>()
  const queue = pkg.entries.map((entry) => entry.replace(/\.ts$/, '.d.ts'))
  for (let path = queue.pop(); path !== undefined; path = queue.pop()) {
    const text = emitted.get(path)
    if (text === undefined || reached.has(path)) continue
    reached.add(path)
    for (const [, specifier] of text.matchAll(/(?:from|import\()\s*['"](\.{1,2}\/[^'"]+)\.js['"]/g)) {
      queue.push(resolve(dirname(path), `${specifier}.d.ts`))
    }
  }
  // Declarations of modules since removed must not linger next to the new ones.
  removeDeclarations(join(pkg.dir, 'dist'))
  for (const path of reached) {
    const text = emitted.get(path)!
    const target = declarationOf(path.replace(/\.d\.ts$/, '.ts'))
    if (relative(pkg.dir, target).startsWith('..')) throw new Error(`${path} is outside ${pkg.dir}`)
    writes.push(
      mkdir(dirname(target), { recursive: true }).then(async () => {
        await writeFile(target, text)
        await writeFile(target.replace(/\.d\.ts$/, '.d.cts'), toCommonJs(text))
      }),
    )
  }
}
await Promise.all(writes)
