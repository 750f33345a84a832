import { Transform, type Readable } from 'node:stream'

/**
 * Collects a body as it is written, up to `limit` bytes. Past the limit it
 * drops what it held and only counts: the response is still served in full,
 * it just won't be stored. Buffers are kept by reference, never copied until
 * the single concat at the end (and not even then for a one-chunk body).
 */
export class BodyCollector {
  private chunks: Buffer[] = []
  private size = 0
  private over = false

  constructor(private readonly limit: number) {}

  add(chunk: unknown, encoding?: unknown): void {
    if (this.over || chunk === undefined || chunk === null || typeof chunk === 'function') return
    let buffer: Buffer
    if (typeof chunk === 'string') {
      if (chunk.length === 0) return
      buffer = Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
    } else if (Buffer.isBuffer(chunk)) {
      buffer = chunk
    } else if (chunk instanceof Uint8Array) {
      buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    } else {
      return
    }
    if (buffer.length === 0) return
    this.size += buffer.length
    if (this.size > this.limit) {
      this.over = true
      this.chunks = []
      return
    }
    this.chunks.push(buffer)
  }

  /** The whole body, or `undefined` when it grew past the limit. */
  body(): Buffer | undefined {
    if (this.over) return undefined
    if (this.chunks.length === 1) return this.chunks[0]!
    return Buffer.concat(this.chunks, this.size)
  }
}

export type StreamOutcome = { kind: 'done'; body: Buffer | undefined } | { kind: 'aborted' } | { kind: 'error'; error: unknown }

/**
 * Puts a pass-through in front of `source` that collects what flows to the
 * client. `done` settles once: with the body when the source ended, `aborted`
 * when the response was torn down first (client gone), `error` when the
 * source failed (the error also reaches whoever consumes `stream`).
 */
export function teeStream(source: Readable, limit: number): { stream: Transform; done: Promise<StreamOutcome> } {
  const collector = new BodyCollector(limit)
  let settle!: (outcome: StreamOutcome) => void
  const done = new Promise<StreamOutcome>((resolve) => (settle = resolve))
  const stream = new Transform({
    transform(chunk, encoding, callback) {
      collector.add(chunk, encoding)
      callback(null, chunk)
    },
    flush(callback) {
      settle({ kind: 'done', body: collector.body() })
      callback()
    },
  })
  source.on('error', (error) => {
    settle({ kind: 'error', error })
    stream.destroy(error)
  })
  stream.on('close', () => {
    settle({ kind: 'aborted' })
    if (!source.destroyed) source.destroy()
  })
  source.pipe(stream)
  return { stream, done }
}
