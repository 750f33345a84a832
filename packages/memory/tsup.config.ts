import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // quick-lru is ESM-only; bundling it keeps the CJS build loadable and the package free of runtime deps.
  noExternal: ['quick-lru'],
})
