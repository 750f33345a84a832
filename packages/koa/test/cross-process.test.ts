import { fileURLToPath } from 'node:url'
import { httpFleetSuite } from '@herd/testing/http-suite'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

httpFleetSuite({
  title: 'two Koa servers',
  fixture: here('./fixtures/server.mjs'),
  versions: [
    ['Koa 3', 'koa'],
    ['Koa 2', 'koa2'],
  ],
})
