import { defineConfig, mergeConfig } from 'vitest/config'
import shared from '../../vitest.shared.js'

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      include: ['test/**/*.test.ts'],
      // Each file starts a redis-server and child processes: one file at a time on a 2-core machine.
      fileParallelism: false,
      // Hang guards for one process running every sample on a busy machine, not expectations of speed.
      testTimeout: 120_000,
    },
  }),
)
