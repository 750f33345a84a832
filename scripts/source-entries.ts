/** The export condition every published @herd/* package maps to its `src/` entry point. */
export const SOURCE_CONDITION = '@herd/source'

export interface SourceEntry {
  /** Output name, from src/: 'index', 'redis-server'. */
  name: string
  /** The entry point's file, relative to the package: 'src/index.ts'. */
  file: string
}

/** A package's entry points: every export's `@herd/source` condition (none for a package without one). */
export function sourceEntries(pkg: { exports?: Record<string, unknown> }): SourceEntry[] {
  return Object.values(pkg.exports ?? {}).flatMap((target) => {
    const file = (target as Record<string, unknown> | null)?.[SOURCE_CONDITION]
    if (typeof file !== 'string') return []
    const path = file.replace(/^\.\//, '')
    return [{ name: path.replace(/^src\//, '').replace(/\.ts$/, ''), file: path }]
  })
}
