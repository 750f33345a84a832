/** An error that maps to an HTTP status: bad input (4xx), or a busy resource (409). Crosses process boundaries as { message, status }. */
export class StatusError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
    this.name = 'StatusError'
  }
}
