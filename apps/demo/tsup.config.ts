import { defineConfig } from 'tsup'

export default defineConfig({
  // The database thread is its own file: the service starts it with new Worker(new URL('./pglite-thread.js', import.meta.url)).
  entry: { cli: 'src/cli.ts', 'pglite-thread': 'src/db/pglite-thread.js' },
  format: ['esm'],
  clean: true,
  sourcemap: true,
  target: 'node20',
})
