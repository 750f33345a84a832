import { randomUUID } from 'node:crypto'
import { Cluster as IoCluster, Redis as IoRedis } from 'ioredis'
import { createClient, createCluster, createSentinel } from 'redis'
import * as redis6 from 'redis6'
import { afterAll, inject } from 'vitest'
import type { RedisClient } from '../src/index.js'
import { portFor } from '../src/port/index.js'

export const redisUrl = inject('redisUrl')
export const clusterUrls = inject('clusterUrls')
export const sentinel = inject('sentinel')
/** False when redis-server is missing: global-setup printed the banner (or failed the run under HERD_REQUIRE_REDIS=1). */
export const haveRedis = redisUrl !== ''

export type Library = 'node-redis 5' | 'node-redis 6' | 'ioredis'
export type Topology = 'single' | 'cluster' | 'sentinel'
export const LIBRARIES: readonly Library[] = ['node-redis 5', 'node-redis 6', 'ioredis']
export const TOPOLOGIES: readonly Topology[] = ['single', 'cluster', 'sentinel']

export interface Target {
  readonly library: Library
  readonly topology: Topology
  readonly label: string
}

/** Every client library on every topology: what each suite runs against. */
export const TARGETS: readonly Target[] = LIBRARIES.flatMap((library) => TOPOLOGIES.map((topology) => ({ library, topology, label: `${library}, ${topology}` })))

export interface Endpoints {
  url: string
  clusterUrls: readonly string[]
  sentinel: { name: string; nodes: ReadonlyArray<{ host: string; port: number }> }
}

const shared: Endpoints = { url: redisUrl, clusterUrls, sentinel }

/** A client as the user would make it; not connected yet for node-redis. */
function make(target: Pick<Target, 'library' | 'topology'>, at: Endpoints): { client: any; connect: () => Promise<unknown> } {
  if (target.library === 'ioredis') {
    const client =
      target.topology === 'single'
        ? new IoRedis(at.url, { lazyConnect: true })
        : target.topology === 'cluster'
          ? new IoCluster(at.clusterUrls.map((url) => { const u = new URL(url); return { host: u.hostname, port: Number(u.port) } }), { lazyConnect: true })
          : new IoRedis({ sentinels: [...at.sentinel.nodes], name: at.sentinel.name, lazyConnect: true })
    client.on('error', () => {})
    return { client, connect: () => client.connect() }
  }
  // Both majors have the same factories; typed loosely here, `client-types.ts` checks what users pass.
  const lib: any = target.library === 'node-redis 5' ? { createClient, createCluster, createSentinel } : redis6
  const client =
    target.topology === 'single'
      ? lib.createClient({ url: at.url })
      : target.topology === 'cluster'
        ? lib.createCluster({ rootNodes: at.clusterUrls.map((url) => ({ url })) })
        : lib.createSentinel({ name: at.sentinel.name, sentinelRootNodes: [...at.sentinel.nodes] })
  client.on('error', () => {})
  return { client, connect: () => client.connect() }
}

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
  const { client, connect: open } = make(target, at)
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
      if (target.library === 'ioredis') client.disconnect()
      else await client.destroy()
    },
  }
  opened.push(connected)
  return connected
}

afterAll(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()))
})

/** A prefix nobody else uses on the shared servers. */
export function uniquePrefix(): string {
  return `t${randomUUID().slice(0, 8)}:`
}
