/**
 * Which code of herd this process measures. `pnpm bench` loads the built
 * packages, the bundles users install; the bench's own tests (vitest, the
 * `@herd/source` condition) load the sources. Run through tsx, the sources
 * are not the same code: esbuild's keepNames wraps every function and class
 * in a `__name()` call, closures made on every call included, which cost a
 * Redis hit about 4 µs here (1.40× a bare GET against 1.23× for the bundle,
 * same core, one process). Peers are measured from their published builds,
 * so herd must be too. Child processes load herd the way their parent did.
 */
export type HerdCode = 'built packages' | 'sources (tsx)'

export const herdCode: HerdCode = import.meta.resolve('@herd/core').endsWith('.ts') ? 'sources (tsx)' : 'built packages'
