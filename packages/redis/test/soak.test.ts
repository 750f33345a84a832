import { fileURLToPath } from 'node:url'
import { forkSource, watchOutput } from '@herd/testing/source-process'
import { describe, expect, it } from 'vitest'
import { haveRedis, redisUrl } from './clients.js'

interface Summary {
  ops: number
  fetches: number
  loaderErrors: number
  ownAborts: number
  unexpected: number
  heapGrowthAfterWarmUpMb: number
  unexpectedErrors: string[]
}

/**
 * A short run of the soak (test/soak.ts; run it for 3 minutes by hand, see docs): mixed traffic with failing loaders
 * and callers that give up never rejects with anything but their own errors, and the process ends by itself after
 * close().
 */
describe.skipIf(!haveRedis)('soak (a child process, two herds on one redis-server, 10,000 keys)', () => {
  it('15 s of mixed traffic: no rejection but the callers’ own aborts and the loader’s own errors; the process exits after close()', async () => {
    const child = forkSource(fileURLToPath(new URL('./soak.ts', import.meta.url)), ['--seconds', '15', '--url', redisUrl], { stdio: 'pipe' })
    const out = watchOutput(child)
    try {
      await out.printed(/soak: .*\n/)
      const summary = JSON.parse(/soak: (.*)\n/.exec(out.output())![1]!) as Summary
      expect(summary.unexpectedErrors).toEqual([])
      expect(summary.unexpected).toBe(0)
      // The traffic did what it says: callers gave up and loaders failed, and both came back to their callers.
      expect(summary.ownAborts).toBeGreaterThan(0)
      expect(summary.loaderErrors).toBeGreaterThan(0)
      // Nothing keeps the event loop alive after close(): the child ends on its own (the bound is for a hang).
      const ended = await Promise.race([out.exit, new Promise<'hung'>((resolve) => setTimeout(resolve, 30_000, 'hung').unref())])
      expect(ended).toEqual({ code: 0, signal: null })
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  }, 120_000)
})
