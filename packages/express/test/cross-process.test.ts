import { fileURLToPath } from 'node:url'
import { httpFleetSuite } from '@herd/testing/http-suite'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

httpFleetSuite({
  title: 'two Express servers',
  fixture: here('./fixtures/server.mjs'),
  versions: [
    ['Express 5', 'express'],
    ['Express 4', 'express4'],
  ],
})
