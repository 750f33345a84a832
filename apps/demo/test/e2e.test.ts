import { existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Running } from '../src/fleet/single.js'
import { startDemo } from './helpers.js'

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const OUTPUT_DIR = fileURLToPath(new URL('../test-output/', import.meta.url))
const available = existsSync(CHROMIUM)

// In CI a missing browser is a failure (the beforeAll below throws); elsewhere the suite skips, loudly.
if (!available && !process.env.CI) {
  const line = '!'.repeat(78)
  console.warn(
    `\n${line}\n!! SKIPPING THE BROWSER TEST: no Chromium at ${CHROMIUM}.\n!! apt-get install -y chromium, or set CHROMIUM_PATH. In CI (CI=true) this is a failure.\n${line}\n`,
  )
}

describe.skipIf(!available && !process.env.CI)('dashboard in a real browser', () => {
  let demo: Running
  let browser: Browser
  let page: Page

  beforeAll(async () => {
    if (!available) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`)
    demo = await startDemo()
    // Playwright starts Chromium with a fresh temporary profile (user-data-dir) and removes it on close.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    })
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } })
  })

  afterAll(async () => {
    await browser?.close()
    await demo?.close()
  })

  /** Clicks a burst button and returns the query count the page then shows for that side. */
  async function burst(side: 'off' | 'on'): Promise<number> {
    const shown = page.locator(`#result-${side}-queries`)
    await page.click(`#burst-${side}`)
    await expect.poll(() => shown.textContent(), { timeout: 60_000 }).toMatch(/^\d+$/)
    return Number(await shown.textContent())
  }

  it('fires the burst without and with herd and shows many queries versus one, on live charts', async () => {
    await page.goto(demo.urls.express + '/')
    await expect.poll(() => page.textContent('#setup')).toContain('PGlite')
    await page.fill('#count', '200')

    const off = await burst('off')
    const on = await burst('on')
    expect(off).toBeGreaterThanOrEqual(10)
    expect(on).toBe(1)
    expect(await page.locator('#bursts tr').count()).toBe(2)

    // The live charts got ticks with traffic in them, and the burst chart one bar per burst.
    const charts = async () =>
      page.evaluate(() => {
        const Chart = (globalThis as any).Chart
        return ['chart-throughput', 'chart-ratios', 'chart-latency', 'chart-bursts'].map((id) => {
          const canvas = (globalThis as any).document.getElementById(id)
          const chart = Chart.getChart(canvas)
          const { width, height } = canvas
          const pixels = canvas.getContext('2d').getImageData(0, 0, width, height).data as Uint8ClampedArray
          let painted = 0
          for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted++
          return {
            id,
            points: chart.data.datasets[0].data.length as number,
            peak: Math.max(0, ...chart.data.datasets.flatMap((d: any) => d.data).filter((v: unknown) => typeof v === 'number')) as number,
            painted: painted > 0,
          }
        })
      })
    // Two more ticks, so the live charts show the second burst as well.
    const ticks = async () => Number(await page.getAttribute('body', 'data-ticks'))
    const seen = await ticks()
    await expect.poll(ticks, { timeout: 15_000 }).toBeGreaterThanOrEqual(seen + 2)
    await expect.poll(async () => (await charts()).every((c) => c.points >= 2 && c.peak > 0), { timeout: 15_000 }).toBe(true)
    const rendered = await charts()
    for (const chart of rendered) expect(chart).toMatchObject({ painted: true })
    expect(rendered.find((c) => c.id === 'chart-bursts')!.points).toBe(2)

    mkdirSync(OUTPUT_DIR, { recursive: true })
    await page.screenshot({ path: `${OUTPUT_DIR}dashboard.png`, fullPage: true })
  })
})
