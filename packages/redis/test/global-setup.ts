import {
  type RedisCluster,
  type RedisSentinelSet,
  type RedisServer,
  redisReady,
  redisSentinelAvailable,
  startRedis,
  startRedisCluster,
  startRedisSentinel,
} from '@herd/testing/redis-server'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Shared standalone server; '' when Redis is missing (the suites skip). */
    redisUrl: string
    /** Root nodes of the shared 3-master Cluster. */
    clusterUrls: string[]
    /** The shared master + replica watched by three Sentinels. */
    sentinel: { name: string; nodes: Array<{ host: string; port: number }> }
  }
}

/**
 * One standalone Redis, one 3-master Cluster and one Sentinel set (master,
 * replica, three Sentinels) for every test file (each test uses its own key
 * prefix). Tests that kill or pause a server start their own. Throws when
 * redis-server is missing and HERD_REQUIRE_REDIS=1.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let redis: RedisServer | undefined
  let cluster: RedisCluster | undefined
  let sentinels: RedisSentinelSet | undefined
  project.provide('redisUrl', '')
  project.provide('clusterUrls', [])
  project.provide('sentinel', { name: '', nodes: [] })
  if (redisReady()) {
    // redis-sentinel is a package of its own on Debian: without it the Sentinel targets skip loudly (or fail the run in CI).
    const withSentinel = redisSentinelAvailable()
    if (!withSentinel) {
      const why = 'redis-sentinel is not installed (apt-get install redis-sentinel)'
      if (process.env.HERD_REQUIRE_REDIS === '1') throw new Error(`@herd/redis tests: ${why}, and HERD_REQUIRE_REDIS=1 says every Redis suite must run`)
      console.warn(`\n${'!'.repeat(78)}\n!! SKIPPING THE SENTINEL TARGETS: ${why}.\n${'!'.repeat(78)}\n`)
    }
    try {
      ;[redis, cluster, sentinels] = await Promise.all([startRedis(), startRedisCluster({ masters: 3 }), withSentinel ? startRedisSentinel() : undefined])
    } catch (error) {
      await Promise.all([redis?.stop(), cluster?.stop(), sentinels?.stop()])
      throw error
    }
    project.provide('redisUrl', redis.url)
    project.provide(
      'clusterUrls',
      cluster.rootNodes.map((n) => n.url),
    )
    if (sentinels) project.provide('sentinel', { name: sentinels.name, nodes: [...sentinels.sentinelNodes] })
  }
  return async () => {
    await Promise.all([redis?.stop(), cluster?.stop(), sentinels?.stop()])
  }
}
