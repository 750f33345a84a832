export { memoryStore, type MemoryStore, type MemoryStoreOptions } from './memory-store.js'
export { memoryLock, type MemoryLock } from './memory-lock.js'
export { memoryBus, type MemoryBus, type MemoryBusOptions } from './memory-bus.js'
