import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'

/**
 * Holds the end of a response until `beforeEnd` (given the status and headers
 * as they are then) has settled, e.g. an invalidation the client must find
 * done when its next request arrives. The bytes written so far flow as usual;
 * only the final chunk and the end wait.
 */
export function passThenEnd(res: ServerResponse, beforeEnd: (status: number, headers: OutgoingHttpHeaders) => Promise<void> | undefined): void {
  const end = res.end as (...args: unknown[]) => ServerResponse
  let held = false
  res.end = function (this: ServerResponse, ...args: unknown[]) {
    if (held) return end.apply(this, args)
    held = true
    let wait: Promise<void> | undefined
    try {
      wait = beforeEnd(this.statusCode, this.getHeaders())
    } catch {
      wait = undefined
    }
    if (wait === undefined) return end.apply(this, args)
    const finish = (): unknown => end.apply(this, args)
    wait.then(finish, finish)
    return this
  } as ServerResponse['end']
}
