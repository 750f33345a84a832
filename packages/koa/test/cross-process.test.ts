import { fileURLToPath } from 'node:url'
import { build } from 'tsup'
import { httpFleetSuite } from '@herd/testing/http-suite'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

httpFleetSuite({
  title: 'two Koa servers',
  fixture: here('./fixtures/server.mjs'),
  versions: [['Koa 3', 'koa'], ['Koa 2', 'koa2']],
  async bundle() {
    const outDir = here('../test-output/herd-koa')
    await build({ config: false, entry: { index: here('../src/index.ts') }, outDir, format: ['esm'], target: 'node20', dts: false, silent: true, external: ['@herd/http', '@herd/core', 'koa'] })
    return `${outDir}/index.js`
  },
})
