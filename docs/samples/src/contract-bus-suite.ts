// test/conformance.test.ts
import { memoryBus } from '@herd/memory'
import { busSuite } from '@herd/testing'
import { myBus } from '../src/index.js'

const bus = memoryBus()
busSuite('memoryBus', () => bus)           // in-process: the same instance every time
busSuite('myBus', () => myBus(redisClient)) // networked: a new Bus each time, its messages through the server
