// What every package's vitest.config.ts starts from (merged with mergeConfig).
import { defineConfig } from 'vitest/config'

/**
 * @herd/* packages resolve to their src/ (the `@herd/source` export condition), so tests need no build:
 * in test files (the `ssr` environment) and in globalSetup files (vitest's own `__vitest__` environment).
 */
const resolve = { conditions: ['@herd/source', 'node', 'development|production'] }

export default defineConfig({
  ssr: { resolve },
  environments: { __vitest__: { resolve } },
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
})
