// test/conformance.test.ts
import { storeSuite } from '@herd/testing'
import { myStore } from '../src/index.js'

storeSuite('myStore', () => myStore(redisClient), { teardown: (store) => store.close?.() })
