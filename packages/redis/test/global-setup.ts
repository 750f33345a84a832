import { type RedisServer, type RedisCluster, redisReady, startRedis, startRedisCluster } from '@herd/testing/redis-server'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Shared standalone server; '' when Redis is missing (the suites skip). */
    redisUrl: string
    /** Root nodes of the shared 3-master Cluster. */
    clusterUrls: string[]
  }
}

/**
 * One standalone Redis and one 3-master Cluster for every test file (each
 * test uses its own key prefix). Tests that kill or pause a server start
 * their own. Throws when redis-server is missing and HERD_REQUIRE_REDIS=1.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let redis: RedisServer | undefined
  let cluster: RedisCluster | undefined
  project.provide('redisUrl', '')
  project.provide('clusterUrls', [])
  if (redisReady()) {
    try {
      ;[redis, cluster] = await Promise.all([startRedis(), startRedisCluster({ masters: 3 })])
    } catch (error) {
      await Promise.all([redis?.stop(), cluster?.stop()])
      throw error
    }
    project.provide('redisUrl', redis.url)
    project.provide(
      'clusterUrls',
      cluster.rootNodes.map((n) => n.url),
    )
  }
  return async () => {
    await Promise.all([redis?.stop(), cluster?.stop()])
  }
}
