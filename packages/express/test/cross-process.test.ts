import { fileURLToPath } from 'node:url'
import { build } from 'tsup'
import { httpFleetSuite } from '@herd/testing/http-suite'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

httpFleetSuite({
  title: 'two Express servers',
  fixture: here('./fixtures/server.mjs'),
  versions: [['Express 5', 'express'], ['Express 4', 'express4']],
  async bundle() {
    const outDir = here('../test-output/herd-express')
    await build({ config: false, entry: { index: here('../src/index.ts') }, outDir, format: ['esm'], target: 'node20', dts: false, silent: true, external: ['@herd/http', '@herd/core'] })
    return `${outDir}/index.js`
  },
})
