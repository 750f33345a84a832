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

  /** Clicks a burst button; returns what the API answered and the count the page then shows for that side, with its unit. */
  async function burst(side: 'off' | 'on'): Promise<{ api: { queries: number }; shown: number; unit: string }> {
    const shown = page.locator(`#result-${side}-queries`)
    const answered = page.waitForResponse((response) => response.url().endsWith('/api/burst'), { timeout: 60_000 })
    await page.click(`#burst-${side}`)
    const api = await (await answered).json()
    await expect.poll(() => shown.textContent(), { timeout: 60_000 }).toBe(String(api.queries))
    return { api, shown: Number(await shown.textContent()), unit: String(await page.textContent(`#result-${side}-unit`)) }
  }

  interface DrawnLabel {
    text: string
    x: number
    top: number
    bottom: number
    label: string[]
  }

  it('fires the burst without and with herd: many queries versus one, both shown, labelled and visible, on live charts fed by @herd/otel', async () => {
    const failed: string[] = []
    page.on('response', (response) => {
      if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`)
    })
    await page.goto(demo.urls.express + '/')
    await expect.poll(() => page.textContent('#setup')).toContain('PGlite')
    await page.fill('#count', '200')

    const off = await burst('off')
    const on = await burst('on')
    expect(off.shown).toBeGreaterThanOrEqual(10)
    expect(off.unit).toBe('database queries')
    expect(on.shown).toBe(1)
    expect(on.unit).toBe('database query')
    expect(await page.locator('#bursts tr').count()).toBe(2)
    // The table's query column says what the API said.
    expect(await page.locator('#bursts tr td:nth-child(5)').allTextContents()).toEqual([String(on.api.queries), String(off.api.queries)])

    // Two more ticks, so the live charts show the second burst as well.
    const ticks = async () => Number(await page.getAttribute('body', 'data-ticks'))
    const seen = await ticks()
    await expect.poll(ticks, { timeout: 15_000 }).toBeGreaterThanOrEqual(seen + 2)

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
            type: chart.config.type as string,
            axes: chart.data.datasets.map((d: any) => d.yAxisID ?? 'y') as string[],
            scales: Object.fromEntries(
              Object.entries(chart.scales).map(([key, scale]: [string, any]) => [key, { type: scale.type, position: scale.position }]),
            ),
            points: chart.data.datasets[0].data.length as number,
            peak: Math.max(0, ...chart.data.datasets.flatMap((d: any) => d.data).filter((v: unknown) => typeof v === 'number')) as number,
            painted: painted > 0,
          }
        })
      })
    await expect.poll(async () => (await charts()).every((c) => c.points >= 2 && c.peak > 0), { timeout: 15_000 }).toBe(true)
    const [throughput, outcomes, latency, bursts] = await charts()
    for (const chart of [throughput, outcomes, latency, bursts]) expect(chart).toMatchObject({ painted: true })
    // Database queries on an axis of their own, on the right.
    expect(throughput!.axes).toEqual(['y', 'queries'])
    expect(throughput!.scales.queries).toMatchObject({ position: 'right' })
    // Outcomes and latency are bars (a burst lasts a second or two: lines would be lone dots); counts on a log scale.
    expect(outcomes).toMatchObject({ type: 'bar', scales: { y: { type: 'logarithmic' } } })
    expect(latency!.type).toBe('bar')
    // herd's one loader run of the protected burst reached the chart through @herd/otel's metrics.
    const loaderRuns = await page.evaluate(() => {
      const chart = (globalThis as any).Chart.getChart((globalThis as any).document.getElementById('chart-ratios'))
      const runs = chart.data.datasets.find((d: any) => d.label.startsWith('loader runs'))
      return runs.data.filter((v: unknown) => typeof v === 'number').reduce((a: number, b: number) => a + b, 0) as number
    })
    expect(loaderRuns).toBeGreaterThan(0)
    expect(bursts).toMatchObject({ type: 'bar', points: 2, scales: { y: { type: 'logarithmic' } } })

    // Each burst's bar carries its count as a label, and is tall enough to see: the 1 beside the hundreds.
    const drawn = JSON.parse((await page.getAttribute('#chart-bursts', 'data-labels'))!) as DrawnLabel[]
    expect(drawn.map((d) => [d.label[0], d.text])).toEqual([
      ['without herd', off.api.queries.toLocaleString('en-US')],
      ['with herd', '1'],
    ])
    const colours = await page.evaluate((bars) => {
      const canvas = (globalThis as any).document.getElementById('chart-bursts')
      const scale = canvas.width / canvas.getBoundingClientRect().width
      const context = canvas.getContext('2d')
      return bars.map((bar: DrawnLabel) =>
        Array.from(context.getImageData(Math.round(bar.x * scale), Math.round(((bar.top + bar.bottom) / 2) * scale), 1, 1).data),
      )
    }, drawn)
    for (const bar of drawn) expect(bar.bottom - bar.top, `bar "${bar.text}" height in px`).toBeGreaterThanOrEqual(10)
    expect(colours).toEqual([
      [0xe5, 0x48, 0x4d, 255],
      [0x30, 0xa4, 0x6c, 255],
    ]) // red without herd, green with it

    // The page's running totals are the API's.
    const stats = (await (await fetch(demo.urls.express + '/api/stats')).json()) as { db: { total: number } }
    await expect.poll(() => page.textContent('#now'), { timeout: 15_000 }).toContain(`db queries (total)${stats.db.total}`)
    // Every chart says what it measures; no request of the page failed (the favicon included).
    expect(await page.locator('.charts .caption').count()).toBe(4)
    expect(await page.textContent('.charts')).toContain('server-side')
    expect(await page.textContent('.results')).toContain('client-side')
    expect(failed).toEqual([])

    mkdirSync(OUTPUT_DIR, { recursive: true })
    await page.screenshot({ path: `${OUTPUT_DIR}dashboard.png`, fullPage: true })
    await page.locator('.results').screenshot({ path: `${OUTPUT_DIR}dashboard-results.png` })
    await page.locator('#chart-bursts').screenshot({ path: `${OUTPUT_DIR}dashboard-bursts.png` })
  })
})
