// The dashboard: one EventSource feeding Chart.js. The server sends `hello`
// (the setup), a `tick` a second (fleet-wide traffic, herd's counts from
// @herd/otel and its stats(), database counters) and `burst-start` /
// `burst` / `burst-error`.
/* global Chart, EventSource */
'use strict'

const WINDOW = 90 // seconds of history on the live charts
const KEEP_BURSTS = 20 // bars and table rows
const COLORS = { off: '#e5484d', on: '#30a46c', blue: '#3e63dd', amber: '#f5a524', violet: '#8e4ec6', grey: '#8b8d98' }
const $ = (id) => document.getElementById(id)

Chart.defaults.animation = false
Chart.defaults.maintainAspectRatio = false
Chart.defaults.font.family = getComputedStyle(document.body).fontFamily

function timeChart(id, type, datasets, scales) {
  return new Chart($(id), {
    type,
    data: {
      labels: [],
      datasets: datasets.map(({ label, color, axis = 'y' }) => ({
        label, yAxisID: axis, borderColor: color, backgroundColor: color, data: [],
        pointRadius: 1.5, borderWidth: 2, tension: 0.2, barPercentage: 0.9, categoryPercentage: 0.9,
      })),
    },
    options: {
      interaction: { mode: 'index', intersect: false },
      scales: { x: { ticks: { maxTicksLimit: 8 } }, ...scales },
      plugins: { legend: { position: 'bottom' } },
    },
  })
}

// Log axes start below 1, so a bar of 1 has a height; only 1, 10, 100… are labelled.
const logAxis = (title) => ({
  type: 'logarithmic',
  min: 0.5,
  title: { display: true, text: title },
  ticks: { callback: (value) => (Number.isInteger(Math.log10(value)) ? Number(value).toLocaleString() : '') },
})

// Writes each bar's value above it, and records what it drew (text, bar top and bottom) on the canvas for the browser test.
const barLabels = {
  id: 'barLabels',
  afterDatasetsDraw(chart) {
    const { ctx } = chart
    const drawn = []
    ctx.save()
    ctx.font = `600 13px ${Chart.defaults.font.family}`
    ctx.textAlign = 'center'
    ctx.textBaseline = 'bottom'
    chart.data.datasets.forEach((dataset, i) => {
      chart.getDatasetMeta(i).data.forEach((bar, j) => {
        const value = dataset.data[j]
        if (typeof value !== 'number') return
        const text = value.toLocaleString()
        ctx.fillStyle = '#1c2024'
        ctx.fillText(text, bar.x, bar.y - 3)
        drawn.push({ text, x: Math.round(bar.x), top: Math.round(bar.y), bottom: Math.round(bar.base), label: chart.data.labels[j] })
      })
    })
    ctx.restore()
    chart.canvas.dataset.labels = JSON.stringify(drawn)
  },
}

const charts = {
  throughput: timeChart('chart-throughput', 'line', [
    { label: 'requests/s (left axis)', color: COLORS.blue },
    { label: 'db queries/s (right axis)', color: COLORS.off, axis: 'queries' },
  ], {
    y: { beginAtZero: true, title: { display: true, text: 'requests/s' } },
    queries: { position: 'right', beginAtZero: true, suggestedMax: 5, title: { display: true, text: 'db queries/s', color: COLORS.off },
      ticks: { color: COLORS.off, precision: 0 }, grid: { drawOnChartArea: false } },
  }),
  ratios: timeChart('chart-ratios', 'bar', [
    { label: 'fresh hit', color: COLORS.on },
    { label: 'stale (refreshing)', color: COLORS.amber },
    { label: 'coalesced', color: COLORS.violet },
    { label: 'miss', color: COLORS.off },
    { label: 'loader runs (db queries by herd)', color: COLORS.grey },
  ], { y: logAxis('per second (log)') }),
  latency: timeChart('chart-latency', 'bar', [
    { label: 'p50', color: COLORS.blue },
    { label: 'p99', color: COLORS.off },
  ], { y: { beginAtZero: true, title: { display: true, text: 'ms (server-side)' } } }),
  bursts: new Chart($('chart-bursts'), {
    type: 'bar',
    data: { labels: [], datasets: [{ label: 'db queries', data: [], backgroundColor: [] }] },
    options: {
      layout: { padding: { top: 22 } },
      plugins: { legend: { display: false } },
      scales: { y: logAxis('db queries (log)') },
    },
    plugins: [barLabels],
  }),
}

function push(chart, label, values) {
  chart.data.labels.push(label)
  chart.data.datasets.forEach((dataset, i) => dataset.data.push(values[i]))
  if (chart.data.labels.length > WINDOW) {
    chart.data.labels.shift()
    chart.data.datasets.forEach((dataset) => dataset.data.shift())
  }
  chart.update()
}

const time = (at) => new Date(at).toLocaleTimeString([], { hour12: false })

function onTick(tick) {
  document.body.dataset.ticks = String(Number(document.body.dataset.ticks ?? 0) + 1) // lets a test wait for the next tick
  const label = time(tick.at)
  push(charts.throughput, label, [tick.requestsPerSec, tick.dbQueriesPerSec])
  const f = tick.fetchesPerSec
  push(charts.ratios, label, [f.hit, f.stale, f.coalesced, f.miss, tick.loadsPerSec].map((n) => (n > 0 ? n : null)))
  push(charts.latency, label, [tick.latency?.p50 ?? null, tick.latency?.p99 ?? null])

  const t = tick.totals
  const entries = [
    ['database', `${tick.db.running} running · ${tick.db.waiting} waiting · budget ${tick.db.budget}`],
    ['db queries (total)', tick.db.total],
    ['processes', tick.workers],
    ['herd.fetch calls', t.requests ?? 0],
    ['fresh hits', t.hits ?? 0],
    ['stale served', t.stale ?? 0],
    ['coalesced', t.coalesced ?? 0],
    ['misses', t.misses ?? 0],
    ['loads (loader runs)', t.loads ?? 0],
    ['background refreshes', t.refreshes ?? 0],
    ['lock waits (other process loading)', t.lockWaits ?? 0],
    ['fenced-out writes', t.fencedOut ?? 0],
    ['errors', t.errors ?? 0],
  ]
  $('now').replaceChildren(...entries.flatMap(([k, v]) => [el('dt', k), el('dd', String(v))]))
}

function el(tag, text, className) {
  const node = document.createElement(tag)
  node.textContent = text
  if (className) node.className = className
  return node
}

const seen = new Set()
function onBurst(result) {
  if (seen.has(result.finishedAt)) return // both the POST answer and the event stream report it
  seen.add(result.finishedAt)
  const side = result.protect ? 'on' : 'off'
  $(`result-${side}-queries`).textContent = String(result.queries)
  $(`result-${side}-unit`).textContent = result.queries === 1 ? 'database query' : 'database queries'
  $(`result-${side}-detail`).textContent =
    `${result.count} requests (key ${result.mode}) in ${result.durationMs} ms · p50 ${result.latency.p50} ms · p99 ${result.latency.p99} ms` +
    (result.failed ? ` · ${result.failed} failed` : '')

  const bars = charts.bursts.data
  bars.labels.push([result.protect ? 'with herd' : 'without herd', time(result.finishedAt)])
  bars.datasets[0].data.push(result.queries)
  bars.datasets[0].backgroundColor.push(result.protect ? COLORS.on : COLORS.off)
  if (bars.labels.length > KEEP_BURSTS) [bars.labels, bars.datasets[0].data, bars.datasets[0].backgroundColor].forEach((a) => a.shift())
  // Headroom above the tallest bar for its label, on the log scale.
  charts.bursts.options.scales.y.max = 10 ** Math.ceil(Math.log10(Math.max(...bars.datasets[0].data, 1) * 3))
  charts.bursts.update()

  const servedBy = Object.entries(result.servedBy).map(([pid, n]) => `${pid}: ${n}`).join(', ')
  const row = el('tr')
  row.append(...[time(result.finishedAt), result.protect ? 'on' : 'off', result.mode, result.count, result.queries, result.ok, result.failed,
    result.durationMs, result.latency.p50, result.latency.p99, servedBy].map((v) => el('td', String(v))))
  row.className = side
  $('bursts').prepend(row)
  while ($('bursts').rows.length > KEEP_BURSTS) $('bursts').lastElementChild.remove()
  setBusy(false, `last burst: ${result.queries} database quer${result.queries === 1 ? 'y' : 'ies'} for ${result.count} requests`)
}

function setBusy(busy, message) {
  $('burst-on').disabled = busy
  $('burst-off').disabled = busy
  $('burst-status').textContent = message
}

async function fireBurst(protect) {
  setBusy(true, `burst running (${protect ? 'with' : 'without'} herd)…`)
  try {
    const response = await fetch('/api/burst', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ protect, mode: $('mode').value, count: Number($('count').value) }),
    })
    const body = await response.json()
    if (!response.ok) return setBusy(false, body.error ?? `failed (${response.status})`)
    onBurst(body)
  } catch (error) {
    setBusy(false, `failed: ${error.message}`)
  }
}

$('burst-off').addEventListener('click', () => fireBurst(false))
$('burst-on').addEventListener('click', () => fireBurst(true))

const events = new EventSource('/events')
events.addEventListener('hello', (e) => {
  const info = JSON.parse(e.data)
  $('setup').textContent =
    `${info.database} · budget ${info.budget} connections · herd on ${info.backend} · ${info.workers} process${info.workers > 1 ? 'es' : ''}`
  $('count').max = String(info.maxBurst)
})
events.addEventListener('tick', (e) => onTick(JSON.parse(e.data)))
events.addEventListener('burst-start', (e) => {
  const options = JSON.parse(e.data)
  setBusy(true, `burst running: ${options.count} requests ${options.protect ? 'with' : 'without'} herd…`)
})
events.addEventListener('burst', (e) => onBurst(JSON.parse(e.data)))
events.addEventListener('burst-error', (e) => setBusy(false, `burst failed: ${JSON.parse(e.data).message}`))
events.addEventListener('open', () => {
  $('connection').textContent = 'live'
  $('connection').className = 'pill'
})
events.addEventListener('error', () => {
  $('connection').textContent = 'reconnecting…'
  $('connection').className = 'pill down'
})
