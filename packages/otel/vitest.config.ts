import { fileURLToPath } from 'node:url'
import { defineConfig, mergeConfig } from 'vitest/config'
import shared from '../../vitest.shared.js'

export default mergeConfig(
  shared,
  defineConfig({
    // The examples import the package by name, as a user's code would: that name is this package's src.
    resolve: { alias: { '@herd/otel': fileURLToPath(new URL('./src/index.ts', import.meta.url)) } },
  }),
)
