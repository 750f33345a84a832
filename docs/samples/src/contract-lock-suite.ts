// test/conformance.test.ts
import { lockSuite } from '@herd/testing'
import { myLock } from '../src/index.js'

lockSuite('myLock', () => myLock(redisClient))
