// test/fused.test.ts
import { fusedLockSuite } from '@herd/testing'
import { createClient } from 'redis'
import { myBackend } from '../src/index.js'

// Each call is one participant (one process): a backend on a connection of its own, closed after the test.
fusedLockSuite('myBackend lock', async () => {
  const client = createClient({ url: process.env.REDIS_URL })
  client.on('error', (error) => console.warn(`redis: ${error}`))
  await client.connect()
  const { store, lock, bus } = myBackend(client)
  const close = async () => {
    await Promise.all([lock.close?.(), bus.close?.(), store.close?.()])
    await client.close()
  }
  return { ...lock, close }
}, { pushesEntries: true })
