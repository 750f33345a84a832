import { StatusError } from '../errors.js'

/** Either end of a node:cluster IPC channel: `process` in a worker, a `Worker` in the primary. */
export interface Channel {
  send(message: unknown, callback: (error: Error | null) => void): unknown
  on(event: 'message', listener: (message: unknown) => void): unknown
}

type Method = (...args: never[]) => unknown
type Wire =
  | { rpc: 'call'; id: number; method: string; args: unknown[] }
  | { rpc: 'reply'; id: number; result?: unknown; error?: { message: string; status?: number } }
  | { rpc: 'event'; event: unknown }

/**
 * Calls both ways over one IPC channel, plus one-way events. Errors cross as
 * { message, status }: a StatusError (409 busy, 400 bad input) stays one.
 */
export class Rpc {
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void; timer?: NodeJS.Timeout }>()
  private nextId = 0

  constructor(
    private readonly channel: Channel,
    private readonly methods: Record<string, Method>,
    private readonly onEvent: (event: unknown) => void = () => {},
  ) {
    channel.on('message', (message) => void this.receive(message as Wire))
  }

  call<T>(method: string, args: unknown[] = [], timeoutMs?: number): Promise<T> {
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      const call: { resolve: (value: unknown) => void; reject: (error: Error) => void; timer?: NodeJS.Timeout } = {
        resolve: resolve as (value: unknown) => void,
        reject,
      }
      if (timeoutMs !== undefined) {
        call.timer = setTimeout(() => this.settle(id, { error: { message: `${method}() got no answer within ${timeoutMs} ms` } }), timeoutMs)
      }
      this.pending.set(id, call)
      this.send({ rpc: 'call', id, method, args }, (error) => this.settle(id, { error: { message: error.message } }))
    })
  }

  emit(event: unknown): void {
    this.send({ rpc: 'event', event }, () => {}) // a process that went away just misses it
  }

  /** Rejects every call still waiting: the other end is gone. */
  fail(reason: string): void {
    for (const id of [...this.pending.keys()]) this.settle(id, { error: { message: reason } })
  }

  private async receive(message: Wire): Promise<void> {
    if (message === null || typeof message !== 'object' || !('rpc' in message)) return
    if (message.rpc === 'event') return this.onEvent(message.event)
    if (message.rpc === 'reply') return this.settle(message.id, message)
    try {
      const method = this.methods[message.method]
      if (!method) throw new Error(`no method ${message.method}`)
      const result = await (method as (...args: unknown[]) => unknown)(...message.args)
      this.send({ rpc: 'reply', id: message.id, result }, () => {})
    } catch (error) {
      const status = error instanceof StatusError ? error.status : undefined
      this.send({ rpc: 'reply', id: message.id, error: { message: (error as Error).message, status } }, () => {})
    }
  }

  private settle(id: number, reply: { result?: unknown; error?: { message: string; status?: number | undefined } }): void {
    const call = this.pending.get(id)
    if (!call) return
    this.pending.delete(id)
    clearTimeout(call.timer)
    if (!reply.error) call.resolve(reply.result)
    else if (reply.error.status !== undefined) call.reject(new StatusError(reply.error.status, reply.error.message))
    else call.reject(new Error(reply.error.message))
  }

  private send(message: Wire, onError: (error: Error) => void): void {
    // With a callback, a closed channel reports here instead of as an 'error' event nobody handles.
    try {
      this.channel.send(message, (error) => error && onError(error))
    } catch (error) {
      onError(error as Error)
    }
  }
}
