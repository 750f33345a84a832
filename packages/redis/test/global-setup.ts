import { type RedisServer, type RedisCluster, redisReady, startRedis, startRedisCluster } from '@herd/testing/redis-server'
import { fileURLToPath } from 'node:url'
import { build } from 'tsup'
import type { TestProject } from 'vitest/node'

/** The child processes of the cross-process tests import this bundle of src/ (tests may run before `pnpm build`). */
export const FIXTURE_BUNDLE = fileURLToPath(new URL('../test-output/herd-redis/index.js', import.meta.url))

declare module 'vitest' {
  export interface ProvidedContext {
    /** Shared standalone server; '' when Redis is missing (the suites skip). */
    redisUrl: string
    /** Root nodes of the shared 3-master Cluster. */
    clusterUrls: string[]
    /** ESM bundle of src/index.ts for child processes. */
    redisBundle: string
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
  project.provide('redisBundle', FIXTURE_BUNDLE)
  if (redisReady()) {
    await build({
      config: false,
      entry: { index: fileURLToPath(new URL('../src/index.ts', import.meta.url)) },
      outDir: fileURLToPath(new URL('../test-output/herd-redis', import.meta.url)),
      format: ['esm'],
      target: 'node20',
      dts: false,
      silent: true,
      external: ['@herd/core', 'redis'],
    })
    try {
      ;[redis, cluster] = await Promise.all([startRedis(), startRedisCluster({ masters: 3 })])
    } catch (error) {
      await Promise.all([redis?.stop(), cluster?.stop()])
      throw error
    }
    project.provide('redisUrl', redis.url)
    project.provide('clusterUrls', cluster.rootNodes.map((n) => n.url))
  }
  return async () => {
    await Promise.all([redis?.stop(), cluster?.stop()])
  }
}
