// test/conformance.test.ts
import { busSuite, lockSuite, storeSuite } from '@herd/testing'
import { createClient } from 'redis'
import { afterAll } from 'vitest'
import { myBus, myLock, myStore } from '../src/index.js'

const client = createClient({ url: process.env.REDIS_URL })
client.on('error', (error) => console.warn(`redis: ${error}`))
await client.connect()
afterAll(() => client.quit())

storeSuite('myStore', () => myStore(client))
lockSuite('myLock', () => myLock(client))
busSuite('myBus', () => myBus(client)) // each bus subscribes on a connection of its own
