import { createHerd } from '@herd/core'
import { memoryBus, memoryLock, memoryStore } from '@herd/memory'

const herd = createHerd({ store: memoryStore(), lock: memoryLock(), bus: memoryBus() })
