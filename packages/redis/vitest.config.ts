import { defineConfig, mergeConfig } from 'vitest/config'
import shared from '../../vitest.shared.js'

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      globalSetup: ['test/global-setup.ts'],
      // Real servers and real child processes: the bound is for a hang, not a speed (nothing asserts one).
      testTimeout: 60_000,
      // Real servers and child processes on a 2-core machine: one file at a time per core.
      maxWorkers: 2,
    },
  }),
)
