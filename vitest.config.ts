// `vitest` at the root runs every package's tests (each project is that package's own vitest.config.ts,
// which `pnpm test` runs per package through turbo, cached).
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'apps/*/vitest.config.ts', 'docs/samples/vitest.config.ts'],
  },
})
