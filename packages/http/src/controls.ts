import type { Herd } from '@herd/core'

export interface InvalidateOptions {
  /** For per-user entries: the `user` your key function returned. */
  user?: string
  /** For a path (not a full URL): only this scheme's entry. Default: both http and https. */
  scheme?: 'http' | 'https'
}

/** What a herdCache middleware carries besides being a middleware. */
export interface CacheControls {
  /** Drops every stored response of a URL path (e.g. '/products/42?lang=en'), or of a key your `key` function returns, in every process. */
  delete(keyOrUrl: string, options?: InvalidateOptions): Promise<void>
  /** Marks them stale: the next request gets the old response while the handler refreshes it. */
  expire(keyOrUrl: string, options?: InvalidateOptions): Promise<void>
  /** Every stored response tagged with one of `tags` (the `tags` option, or the handler's Cache-Tag header) turns stale, in every process. */
  expireTags(tags: readonly string[]): Promise<void>
  /** Every stored response tagged with one of `tags` is gone, in every process. */
  deleteTags(tags: readonly string[]): Promise<void>
  /** The herd key for a URL path or key, to use with the herd directly (http unless the URL or `scheme` says https). */
  keyFor(keyOrUrl: string, options?: InvalidateOptions): string
  /** The herd this middleware stores in. */
  readonly herd: Herd
}

/** Puts `cache`'s controls on a framework middleware function. */
export function withControls<M extends (...args: never[]) => unknown>(middleware: M, cache: CacheControls): M & CacheControls {
  const m = middleware as M & { -readonly [K in keyof CacheControls]: CacheControls[K] }
  m.delete = (keyOrUrl, options) => cache.delete(keyOrUrl, options)
  m.expire = (keyOrUrl, options) => cache.expire(keyOrUrl, options)
  m.expireTags = (tags) => cache.expireTags(tags)
  m.deleteTags = (tags) => cache.deleteTags(tags)
  m.keyFor = (keyOrUrl, options) => cache.keyFor(keyOrUrl, options)
  Object.defineProperty(m, 'herd', { get: () => cache.herd, enumerable: true })
  return m
}
