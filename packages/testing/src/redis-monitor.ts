/**
 * What a Redis server runs, from `MONITOR` on a socket of its own: each
 * command, who sent it (a client: a round trip; or a Lua script inside the
 * server, reported as `[0 lua]`), its name and its raw line. For tests and
 * benchmarks that count round trips; nothing here sends traffic but the
 * `MONITOR` itself, to 127.0.0.1 (or the URL's host).
 *
 * `take` returns what ran since the last take once a barrier has come
 * through: a command the caller sends that names a marker. MONITOR reports
 * commands in the order the server ran them, so once the marker is in, all
 * that ran before it is too: no settling delay to guess.
 */
import { connect, type Socket } from 'node:net'

export interface MonitoredCommand {
  /** `client`: sent by a client (a round trip); `lua`: run by a script inside the server. */
  source: 'client' | 'lua'
  /** The command's name, lower case. */
  name: string
  /** MONITOR's line, arguments included. */
  line: string
}

export interface RedisMonitorOptions {
  /** Keeps only the lines it accepts (say, those naming a test's key prefix, on a server other tests share). */
  filter?: (line: string) => boolean
}

// +1700000000.123456 [0 127.0.0.1:50000] "get" "key"   or   +1700000000.123456 [0 lua] "set" …
const LINE = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] "([^"]+)"/

export class RedisMonitor {
  private buffer = ''
  private seen: MonitoredCommand[] = []
  private waiting: { marker: string; done: () => void } | undefined
  private markers = 0

  private constructor(
    private readonly socket: Socket,
    private readonly filter: (line: string) => boolean,
  ) {}

  /** Connects and starts monitoring; resolves once the server confirmed (`+OK`), so nothing after is missed. */
  static open(url: string, options: RedisMonitorOptions = {}): Promise<RedisMonitor> {
    const { hostname, port } = new URL(url)
    return new Promise((resolve, reject) => {
      const socket = connect({ host: hostname, port: Number(port) })
      const monitor = new RedisMonitor(socket, options.filter ?? (() => true))
      socket.setEncoding('utf8')
      socket.once('error', reject)
      socket.on('data', (chunk: string) => {
        monitor.buffer += chunk
        let nl: number
        while ((nl = monitor.buffer.indexOf('\r\n')) >= 0) {
          const line = monitor.buffer.slice(0, nl)
          monitor.buffer = monitor.buffer.slice(nl + 2)
          if (line === '+OK') resolve(monitor)
          else monitor.record(line)
        }
      })
      socket.write('MONITOR\r\n')
    })
  }

  /**
   * The commands run since the last take, in order, once `barrier` has sent
   * a command naming the marker it is given (an `ECHO <marker>` on the
   * client whose commands are counted is the surest: it follows them on the
   * same connection). The barrier's own command is not among them.
   */
  async take(barrier: (marker: string) => Promise<unknown>): Promise<MonitoredCommand[]> {
    const marker = `herd-monitor-marker:${process.pid}:${++this.markers}`
    const seen = new Promise<void>((done) => {
      this.waiting = { marker, done }
    })
    await barrier(marker)
    await seen
    const taken = this.seen
    this.seen = []
    return taken
  }

  close(): void {
    this.socket.destroy()
  }

  private record(line: string): void {
    const waiting = this.waiting
    if (waiting !== undefined && line.includes(waiting.marker)) {
      this.waiting = undefined
      return waiting.done()
    }
    if (!this.filter(line)) return
    const parsed = LINE.exec(line)
    if (parsed === null) return
    this.seen.push({ source: parsed[1] === 'lua' ? 'lua' : 'client', name: parsed[2]!.toLowerCase(), line })
  }
}

/** How many of each command, by name. */
export function countByName(commands: readonly MonitoredCommand[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const { name } of commands) counts[name] = (counts[name] ?? 0) + 1
  return counts
}
