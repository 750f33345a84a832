import { randomUUID } from 'node:crypto'
import type { Cluster as IoCluster } from 'ioredis'
import { afterAll, inject } from 'vitest'
import type { RedisClient } from '../src/index.js'
import { portFor } from '../src/port/index.js'
import { type Endpoints, makeClient } from './fixtures/make-client.mjs'

export type { Endpoints }

export const redisUrl = inject('redisUrl')
export const clusterUrls = inject('clusterUrls')
export const sentinel = inject('sentinel')
/** False when redis-server is missing: global-setup printed the banner (or failed the run under HERD_REQUIRE_REDIS=1). */
export const haveRedis = redisUrl !== ''

export type Library = 'node-redis 5' | 'node-redis 6' | 'ioredis'
export type Topology = 'single' | 'cluster' | 'sentinel'
/** False when redis-sentinel is missing (global-setup printed why): the Sentinel targets skip. */
export const haveSentinel = sentinel.name !== ''
export const LIBRARIES: readonly Library[] = ['node-redis 5', 'node-redis 6', 'ioredis']
export const TOPOLOGIES: readonly Topology[] = haveSentinel ? ['single', 'cluster', 'sentinel'] : ['single', 'cluster']

export interface Target {
  readonly library: Library
  readonly topology: Topology
  readonly label: string
}

/** Every client library on every topology: what each suite runs against. */
export const TARGETS: readonly Target[] = LIBRARIES.flatMap((library) =>
  TOPOLOGIES.map((topology) => ({ library, topology, label: `${library}, ${topology}` })),
)

const shared: Endpoints = { url: redisUrl, clusterUrls, sentinel }

export interface Connected {
  readonly client: RedisClient
  readonly target: Pick<Target, 'library' | 'topology'>
  /** One command on the node that owns `key` (the master elsewhere). */
  raw(key: string | undefined, args: string[]): Promise<unknown>
  /** One command on every master. */
  everyMaster(args: string[]): Promise<unknown[]>
  close(): Promise<void>
}

const opened: Connected[] = []

/** A connected client of `target`, closed after the file (if not before). */
export async function connect(target: Pick<Target, 'library' | 'topology'>, at: Endpoints = shared): Promise<Connected> {
  const { client, connect: open, close } = await makeClient(target, at)
  await open()
  const port = portFor(client, 'test')
  let closed = false
  const connected: Connected = {
    client,
    target,
    raw: (key, args) => port.send(key, false, args),
    async everyMaster(args) {
      if (target.topology !== 'cluster') return [await port.send(undefined, false, args)]
      if (target.library === 'ioredis') return Promise.all((client as IoCluster).nodes('master').map((node) => node.call(args[0]!, ...args.slice(1))))
      return Promise.all(client.masters.map(async (m: unknown) => (await client.nodeClient(m)).sendCommand(args)))
    },
    async close() {
      if (closed) return
      closed = true
      await close()
    },
  }
  opened.push(connected)
  return connected
}

/** Closes every client connect() opened so far (before a file stops servers of its own). */
export async function closeConnections(): Promise<void> {
  await Promise.all(opened.splice(0).map((c) => c.close()))
}

afterAll(closeConnections)

/** A prefix nobody else uses on the shared servers. */
export function uniquePrefix(): string {
  return `t${randomUUID().slice(0, 8)}:`
}
