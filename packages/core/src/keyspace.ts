import { describe } from './duration.js'
import { HerdArgumentError } from './errors.js'

/**
 * The keys herd gives its Store, Lock and Bus. A namespace keeps two herds on
 * one backend apart; tag records (expireTags, deleteTags, clear) are entries
 * of their own. U+0000 starts every key herd makes up and no key a user
 * gives (rejected at the call), so the mapping is one-to-one:
 *
 *     user key, default namespace      <key>
 *     user key, namespace ns           \0n<ns>\0<key>
 *     tag record (expired / deleted)   \0x<ns>\0<tag>  /  \0d<ns>\0<tag>
 *     the namespace itself (clear())   \0d<ns>\0        (the empty tag every entry has)
 *
 * A namespace can't contain U+0000, so where it ends is never in doubt.
 */
export type RecordKind = 'expired' | 'deleted'

export class Keyspace {
  private readonly entryPrefix: string

  constructor(readonly namespace: string) {
    this.entryPrefix = namespace === '' ? '' : `\0n${namespace}\0`
  }

  static of(namespace: unknown): Keyspace {
    if (namespace === undefined) return new Keyspace('')
    if (typeof namespace !== 'string' || namespace.includes('\0')) {
      throw new HerdArgumentError(`herd: namespace must be a string without U+0000; got ${describe(namespace)}`)
    }
    return new Keyspace(namespace)
  }

  entry(key: string): string {
    return this.entryPrefix === '' ? key : this.entryPrefix + key
  }

  /** The user key of one of this namespace's entries; undefined for anything else (another namespace, a record). */
  fromEntry(stored: string): string | undefined {
    if (this.entryPrefix === '') return stored.charCodeAt(0) === 0 ? undefined : stored
    return stored.startsWith(this.entryPrefix) ? stored.slice(this.entryPrefix.length) : undefined
  }

  record(kind: RecordKind, tag: string): string {
    return `\0${kind === 'expired' ? 'x' : 'd'}${this.namespace}\0${tag}`
  }

  /** What one of this namespace's record keys stands for; undefined for anything else. */
  fromRecord(stored: string): { kind: RecordKind; tag: string } | undefined {
    if (stored.charCodeAt(0) !== 0) return undefined
    const kind = stored[1] === 'x' ? 'expired' : stored[1] === 'd' ? 'deleted' : undefined
    if (kind === undefined || !stored.startsWith(`${this.namespace}\0`, 2)) return undefined
    return { kind, tag: stored.slice(2 + this.namespace.length + 1) }
  }
}
