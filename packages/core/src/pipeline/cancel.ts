/**
 * A cancellation inside the pipeline: aborted once, with a reason, and
 * listeners called when it is. Every flight and every load has one, and a
 * cold key takes several, so it costs an object until something outside
 * core (a loader reading `ctx.signal`, a Lock's `wait`) asks for a real
 * AbortSignal: an AbortController is made then, already aborted if this is.
 * (An AbortController with its listeners was the largest part of a cold
 * fetchMany's own time.)
 */
export class Cancel {
  aborted = false
  reason: unknown = undefined
  private listeners: Array<(reason: unknown) => void> | undefined
  private controller: AbortController | undefined

  /** An AbortSignal that aborts with this, made on first use. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController()
      if (this.aborted) this.controller.abort(this.reason)
    }
    return this.controller.signal
  }

  abort(reason: unknown): void {
    if (this.aborted) return
    this.aborted = true
    this.reason = reason
    this.controller?.abort(reason)
    const listeners = this.listeners
    this.listeners = undefined
    if (listeners !== undefined) for (const listener of listeners) listener(reason)
  }

  throwIfAborted(): void {
    if (this.aborted) throw this.reason
  }

  /** `listener` runs once, when this aborts (never, if it already has: check `aborted` first). Returns what removes it. */
  onAbort(listener: (reason: unknown) => void): () => void {
    if (this.aborted) return noop
    const listeners = (this.listeners ??= [])
    listeners.push(listener)
    return () => {
      const at = listeners.indexOf(listener)
      if (at >= 0) listeners.splice(at, 1)
    }
  }
}

/**
 * A Cancel that aborts once every one of `cancels` has (a batch whose keys'
 * callers have all gone), with `reason`. `stop` removes its listeners.
 */
export function cancelWhenAll(cancels: readonly Cancel[], reason: () => unknown): { cancel: Cancel; stop: () => void } {
  const cancel = new Cancel()
  let live = cancels.length
  const onAbort = (): void => {
    if (--live === 0) cancel.abort(reason())
  }
  const stops = cancels.map((each) => {
    if (each.aborted) onAbort()
    return each.onAbort(onAbort)
  })
  return { cancel, stop: () => stops.forEach((stop) => stop()) }
}

function noop(): void {}
