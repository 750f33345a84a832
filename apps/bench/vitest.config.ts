import { defineConfig, mergeConfig } from 'vitest/config'
import shared from '../../vitest.shared.js'

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      include: ['test/**/*.test.ts'],
      // Smoke runs start child processes and real servers; give them room on a busy 2-core machine.
      testTimeout: 120_000,
      hookTimeout: 60_000,
      // One suite at a time: they measure, and they start processes.
      fileParallelism: false,
    },
  }),
)
