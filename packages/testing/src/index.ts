export { storeSuite, type StoreFactory, type StoreSuiteOptions } from './store-suite.js'
export { lockSuite, type LockFactory, type LockSuiteOptions } from './lock-suite.js'
export { busSuite, type BusFactory, type BusSuiteOptions } from './bus-suite.js'
export type { Factory, SuiteOptions } from './harness.js'
