import { busSuite, lockSuite, storeSuite } from '@herd/testing'
import { memoryBus, memoryLock, memoryStore } from '../src/index.js'

storeSuite('memoryStore', () => memoryStore())
lockSuite('memoryLock', () => memoryLock())

// Every participant of a test shares one in-process medium: the same bus.
// close() after each test drops its listeners, and the bus is usable again.
const bus = memoryBus()
busSuite('memoryBus', () => bus)
