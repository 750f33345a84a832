import { randomUUID } from 'node:crypto'
import { createClient, createCluster } from 'redis'
import { afterAll, inject } from 'vitest'
import type { RedisClient } from '../src/index.js'

export const redisUrl = inject('redisUrl')
export const clusterUrls = inject('clusterUrls')
/** False when redis-server is missing: global-setup printed the banner (or failed the run under HERD_REQUIRE_REDIS=1). */
export const haveRedis = redisUrl !== ''

export type Topology = 'single' | 'cluster'
export const TOPOLOGIES: readonly Topology[] = ['single', 'cluster']

const opened: RedisClient[] = []

/** A connected client on the shared server or Cluster, destroyed after the file (if not before). */
export async function connect(topology: Topology): Promise<RedisClient> {
  const client: RedisClient = topology === 'single' ? createClient({ url: redisUrl }) : createCluster({ rootNodes: clusterUrls.map((url) => ({ url })) })
  client.on('error', () => {})
  await client.connect()
  opened.push(client)
  return client
}

afterAll(async () => {
  await Promise.all(opened.splice(0).map((c) => (c.isOpen ? c.destroy() : undefined)))
})

/** A prefix nobody else uses on the shared servers. */
export function uniquePrefix(): string {
  return `t${randomUUID().slice(0, 8)}:`
}
