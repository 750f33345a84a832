import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts', 'src/redis-server.ts', 'src/http-harness.ts', 'src/http-binding-suite.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
})
