/**
 * Progress on stderr, so stdout stays the tables. On a terminal the line is
 * rewritten in place; in CI or a pipe every step is its own line.
 */
export interface Progress {
  step(message: string): void
  done(message?: string): void
}

let quiet = false

/** Silences progress (the smoke tests use it). */
export function setQuiet(value: boolean): void {
  quiet = value
}

export function progress(suite: string): Progress {
  const tty = process.stderr.isTTY === true
  const started = performance.now()
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)}s`
  let last = 0
  return {
    step(message) {
      if (quiet) return
      const line = `[${suite} ${elapsed()}] ${message}`
      if (tty) process.stderr.write(`\r\x1b[2K${line}`)
      else {
        // Off a terminal, at most a line a second unless the message is important.
        const now = performance.now()
        if (now - last < 1_000) return
        last = now
        process.stderr.write(`${line}\n`)
      }
    },
    done(message = 'done') {
      if (quiet) return
      const line = `[${suite} ${elapsed()}] ${message}`
      process.stderr.write(tty ? `\r\x1b[2K${line}\n` : `${line}\n`)
    },
  }
}
