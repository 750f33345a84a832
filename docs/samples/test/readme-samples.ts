/**
 * The code samples of the repository's READMEs and docs pages, and the files in docs/samples/src they come from.
 * Every ```ts block of a page follows a `<!-- sample: docs/samples/src/NAME.ts -->` line, and its
 * text is that file's, byte for byte: the files are what is type-checked and run.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

const MARKER = /^<!-- sample: (\S+) -->$/
const OPENING = /^```(\w*)\s*$/

export interface Block {
  /** README path, from the repository root. */
  readme: string
  /** 1-based line of the opening fence. */
  line: number
  language: string
  /** Sample file named by the marker above the block, from the repository root; undefined without a marker. */
  file: string | undefined
  text: string
  /** Line indexes (0-based) of the block's first and last content lines + 1 (a slice). */
  start: number
  end: number
}

/** README.md at the root, in every package and in every app, then every Markdown page under docs/ (docs/samples aside). */
export function readmes(): string[] {
  const found = ['README.md']
  for (const dir of ['packages', 'apps']) {
    for (const name of readdirSync(join(ROOT, dir)).sort()) {
      const readme = join(dir, name, 'README.md')
      if (existsSync(join(ROOT, readme))) found.push(readme)
    }
  }
  return [...found, ...pages('docs')]
}

/** The Markdown pages of `dir` and its subdirectories, sorted, from the repository root. */
function pages(dir: string): string[] {
  const found: string[] = []
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name)
    if (entry.isDirectory() && path !== 'docs/samples') found.push(...pages(path))
    else if (entry.isFile() && entry.name.endsWith('.md')) found.push(path)
  }
  return found
}

/** Every fenced block of a README, with the sample marker above it (if any). */
export function blocks(readme: string, text = readFileSync(join(ROOT, readme), 'utf8')): Block[] {
  const lines = text.split('\n')
  const found: Block[] = []
  for (let i = 0; i < lines.length; i++) {
    const opening = OPENING.exec(lines[i]!)
    if (!opening) continue
    const close = lines.findIndex((line, j) => j > i && line.trimEnd() === '```')
    if (close < 0) throw new Error(`${readme}:${i + 1}: a code block that never closes`)
    const marker = i > 0 ? MARKER.exec(lines[i - 1]!) : null
    found.push({
      readme,
      line: i + 1,
      language: opening[1]!,
      file: marker?.[1],
      text: lines.slice(i + 1, close).join('\n') + '\n',
      start: i + 1,
      end: close,
    })
    i = close
  }
  return found
}

/** The README with every marked block's text replaced by its sample file's. */
export function withSamples(readme: string): string {
  const lines = readFileSync(join(ROOT, readme), 'utf8').split('\n')
  for (const block of blocks(readme).reverse()) {
    if (block.file === undefined) continue
    const sample = readFileSync(join(ROOT, block.file), 'utf8').replace(/\n$/, '').split('\n')
    lines.splice(block.start, block.end - block.start, ...sample)
  }
  return lines.join('\n')
}

/** Every sample file any README names, from the repository root. */
export function sampleFiles(): string[] {
  return [...new Set(readmes().flatMap((readme) => blocks(readme).flatMap((b) => (b.file ? [b.file] : []))))]
}

export const relativeToRoot = (path: string): string => relative(ROOT, path)
