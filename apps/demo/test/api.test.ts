import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Running } from '../src/fleet/single.js'
import { call, counters, startDemo } from './helpers.js'

let demo: Running
beforeAll(async () => {
  demo = await startDemo()
})
afterAll(async () => {
  await demo?.close()
})

const LEADER_ID = 1 // the seed's best seller: always in the leaderboard

// One route table mounted twice. Each framework gets its own ids, since both share the process's herd.
describe.each([
  { framework: 'Express', ids: { read: 11, missing: 1_999_001, write: 12, gone: 13, user: 101, privateUser: 102 } },
  { framework: 'Koa', ids: { read: 21, missing: 1_999_002, write: 22, gone: 23, user: 201, privateUser: 202 } },
] as const)('$framework', ({ framework, ids }) => {
  const base = () => (framework === 'Express' ? demo.urls.express : demo.urls.koa)

  it('herd.fetch in a handler: the first read queries the database, the next is a hit with the same body', async () => {
    const before = await counters(base())
    const first = await call(`${base()}/api/products/${ids.read}`)
    const second = await call(`${base()}/api/products/${ids.read}`)
    expect(first.status).toBe(200)
    expect(first.body).toMatchObject({ id: ids.read, name: expect.any(String), priceCents: expect.any(Number) })
    expect(first.headers.get('x-cache')).toBe('MISS')
    expect(second.headers.get('x-cache')).toBe('HIT')
    expect(second.body).toEqual(first.body)
    expect((await counters(base())).db.product! - (before.db.product ?? 0)).toBe(1)
  })

  it('negative caching: a missing id is a 404, and the second 404 comes from the cache', async () => {
    const before = await counters(base())
    const first = await call(`${base()}/api/products/${ids.missing}`)
    const second = await call(`${base()}/api/products/${ids.missing}`)
    expect([first.status, second.status]).toEqual([404, 404])
    expect(first.body).toEqual({ error: `no product ${ids.missing}` })
    expect([first.headers.get('x-cache'), second.headers.get('x-cache')]).toEqual(['MISS', 'HIT'])
    expect((await counters(base())).db.product! - (before.db.product ?? 0)).toBe(1)
  })

  it('a write goes through herd.set: the next read has the new value without a query', async () => {
    await call(`${base()}/api/products/${ids.write}`) // cached now
    const put = await call(`${base()}/api/products/${ids.write}`, { method: 'PUT', json: { name: `Renamed by ${framework}`, priceCents: 4242 } })
    expect(put.status).toBe(200)
    expect(put.body).toMatchObject({ id: ids.write, name: `Renamed by ${framework}`, priceCents: 4242 })

    const before = await counters(base())
    const read = await call(`${base()}/api/products/${ids.write}`)
    expect(read.body).toEqual(put.body)
    expect(read.headers.get('x-cache')).toBe('HIT')
    expect((await counters(base())).db.product).toBe(before.db.product)
  })

  it('a delete goes through herd.delete: the cached product is gone at once', async () => {
    expect((await call(`${base()}/api/products/${ids.gone}`)).status).toBe(200)
    expect((await call(`${base()}/api/products/${ids.gone}`, { method: 'DELETE' })).status).toBe(204)
    expect((await call(`${base()}/api/products/${ids.gone}`)).status).toBe(404)
    expect((await call(`${base()}/api/products/${ids.gone}`, { method: 'DELETE' })).status).toBe(404)
  })

  it('an order expires the leaderboard: served stale once, then the refreshed totals', async () => {
    const revenue = async () => {
      const { body } = await call(`${base()}/api/leaderboard`)
      return body.leaderboard.find((row: { id: number }) => row.id === LEADER_ID).revenueCents as number
    }
    const { body: product } = await call(`${base()}/api/products/${LEADER_ID}`)
    const before = await revenue()
    const order = await call(`${base()}/api/orders`, { json: { userId: 7, productId: LEADER_ID, quantity: 3 } })
    expect(order.status).toBe(201)
    expect(order.body).toMatchObject({ userId: 7, productId: LEADER_ID, quantity: 3, priceCents: product.priceCents })

    const expected = before + 3 * product.priceCents
    let seen = before
    // The first read after expire() is served stale while one refresh runs; a few reads later it has landed (the bound
    // is a count, generous for a loaded machine: the test's timeout ends a refresh that never lands).
    for (let i = 0; i < 400 && seen !== expected; i++) {
      seen = await revenue()
      if (seen !== expected) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(seen).toBe(expected)
  })

  it('herdCache() on a route: the whole response is cached, and an order expires it', async () => {
    const url = `${base()}/api/users/${ids.user}`
    const before = await counters(base())
    const first = await call(url)
    const second = await call(url)
    expect(first.status).toBe(200)
    expect([first.headers.get('x-cache'), second.headers.get('x-cache')]).toEqual(['MISS', 'HIT'])
    expect(second.body).toEqual(first.body)
    expect((await counters(base())).db.user! - (before.db.user ?? 0)).toBe(1)

    expect((await call(`${base()}/api/orders`, { json: { userId: ids.user, productId: 5, quantity: 2 } })).status).toBe(201)
    let seen = first.body.orders
    // Served stale once while the handler refreshes it in the background, then the new count (bounded as above).
    for (let i = 0; i < 400 && seen === first.body.orders; i++) {
      const read = await call(url)
      seen = read.body.orders
      if (seen === first.body.orders) {
        expect(read.headers.get('x-cache')).toBe('STALE')
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
    expect(seen).toBe(first.body.orders + 1)
  })

  it('herdCache() never shares a response to a request that carries a cookie', async () => {
    const url = `${base()}/api/users/${ids.privateUser}`
    const before = await counters(base())
    for (let i = 0; i < 2; i++) {
      const read = await call(url, { headers: { cookie: 'session=abc' } })
      expect(read.status).toBe(200)
      expect(read.headers.get('x-cache')).not.toMatch(/HIT|STALE/)
    }
    expect((await counters(base())).db.user! - (before.db.user ?? 0)).toBe(2)
    expect((await call(url)).headers.get('x-cache')).toBe('MISS') // nothing was stored for everyone else either
  })

  it('rejects bad input with a 4xx, caches nothing and queries nothing', async () => {
    const before = await counters(base())
    const bad: Array<[string, number, RequestInit?]> = [
      ['/api/products/abc', 400],
      ['/api/products/0', 400],
      ['/api/products/-1', 400],
      ['/api/products/01', 400],
      ['/api/products/1.5', 400],
      ['/api/products/1e3', 400],
      ['/api/products/99999999999', 400],
      ['/api/products/%00', 400],
      ['/api/products/%E0%A4%A', 400],
      ['/api/products/1?debug=1', 400],
      ['/api/leaderboard?limit=1&limit=2', 400],
      [`/api/leaderboard?q=${'x'.repeat(4_000)}`, 414],
      ['/api/nothing-here', 404],
      ['/api/orders', 400, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"userId": 1,' }],
      ['/api/orders', 400, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[1, 2]' }],
      ['/api/orders', 400, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'userId=1' }],
      ['/api/orders', 400, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: '1', productId: 1 }) }],
      [
        '/api/orders',
        400,
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 1, productId: 1, quantity: 0 }) },
      ],
      ['/api/orders', 413, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pad: 'x'.repeat(40_000) }) }],
      ['/api/products/1', 400, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' }],
      ['/api/products/1', 400, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x'.repeat(101) }) }],
      ['/api/products/1', 400, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ priceCents: -5 }) }],
      ['/api/burst', 400, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ protect: 'yes' }) }],
      ['/api/burst', 400, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ protect: true, count: 1_000_000 }) }],
      ['/api/burst', 400, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ protect: true, mode: 'melt' }) }],
    ]
    for (const [path, status, init] of bad) {
      const response = await fetch(base() + path, init)
      expect({ path: path.slice(0, 60), status: response.status }).toEqual({ path: path.slice(0, 60), status })
      expect(response.headers.get('content-type')).toContain('application/json')
      expect(((await response.json()) as { error: unknown }).error).toEqual(expect.any(String))
    }
    const after = await counters(base())
    expect(after.herdRequests).toBe(before.herdRequests) // not one herd.fetch: nothing read, nothing cached
    expect(after.dbTotal).toBe(before.dbTotal)
  })

  it('a request line past Node’s 16 KB header limit gets 431, and the service carries on', async () => {
    const huge = await fetch(`${base()}/api/leaderboard?q=${'x'.repeat(20_000)}`)
    expect(huge.status).toBe(431)
    expect((await call(`${base()}/api/products/${ids.read}`)).status).toBe(200)
  })

  it('an order for an unknown user or product is a 404 and leaves the cache alone', async () => {
    const before = await counters(base())
    const order = await call(`${base()}/api/orders`, { json: { userId: 7, productId: ids.missing, quantity: 1 } })
    expect(order.status).toBe(404)
    expect((await counters(base())).herdRequests).toBe(before.herdRequests)
  })
})

describe('dashboard', () => {
  it('serves the page, Chart.js from node_modules and an event stream that starts with the setup', async () => {
    const page = await call(demo.urls.express + '/')
    expect(page.status).toBe(200)
    expect(page.body).toContain('<canvas id="chart-throughput">')
    const chart = await fetch(demo.urls.express + '/vendor/chart.umd.min.js')
    expect(chart.status).toBe(200)
    expect(await chart.text()).toContain('Chart')

    const controller = new AbortController()
    const events = await fetch(demo.urls.express + '/events', { signal: controller.signal })
    expect(events.headers.get('content-type')).toContain('text/event-stream')
    const reader = events.body!.getReader()
    let text = ''
    while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value)
    controller.abort()
    // The first read may carry more than the hello event (the stream sends stats right after): parse only the first.
    const hello = text.slice(0, text.indexOf('\n\n'))
    expect(hello).toMatch(/^event: hello\ndata: /)
    expect(JSON.parse(hello.slice(hello.indexOf('data: ') + 'data: '.length))).toMatchObject({
      backend: 'memory',
      budget: 5,
      workers: 1,
      hotKey: 'leaderboard',
    })
  })

  it('serves a favicon (no 404 in the console)', async () => {
    const icon = await fetch(demo.urls.express + '/favicon.ico')
    expect(icon.status).toBe(200)
    expect(icon.headers.get('content-type')).toMatch(/^image\//)
    expect(Buffer.from(await icon.arrayBuffer()).subarray(0, 4)).toEqual(Buffer.from([0, 0, 1, 0])) // an ICO header
  })

  it('serves its herd metrics from @herd/otel at /metrics, in Prometheus format', async () => {
    expect((await call(`${demo.urls.express}/api/leaderboard`)).status).toBe(200)
    const metrics = await call(demo.urls.express + '/metrics')
    expect(metrics.status).toBe(200)
    expect(metrics.body).toMatch(/^herd_fetches_total\{herd_name="demo",herd_key_group="leaderboard",herd_fetch_status="\w+"/m)
    expect(metrics.body).toContain('# TYPE herd_load_duration histogram')
    expect(metrics.body).toMatch(/^herd_breaker_state\{herd_name="demo",herd_breaker_state="closed",otel_scope_name="@herd\/otel"\} 1$/m)
  })
})

describe('bursts', () => {
  const burst = (json: object) => call(`${demo.urls.express}/api/burst`, { json })

  it('without herd a just-expired key costs many queries; with herd one, whether the key expired or is gone', async () => {
    const off = await burst({ protect: false, count: 150 })
    const expired = await burst({ protect: true, mode: 'expired', count: 150 })
    const cold = await burst({ protect: true, mode: 'cold', count: 150 })
    for (const { status, body } of [off, expired, cold]) {
      expect(status).toBe(200)
      expect(body).toMatchObject({ count: 150, ok: 150, failed: 0 })
    }
    expect(off.body.queries).toBeGreaterThanOrEqual(10)
    expect(expired.body.queries).toBe(1)
    expect(cold.body.queries).toBe(1)
  })

  it('runs one burst at a time', async () => {
    const answers = await Promise.all([burst({ protect: true, count: 50 }), burst({ protect: true, count: 50 })])
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409])
    expect(answers.find((a) => a.status === 409)!.body).toEqual({ error: 'a burst is already running' })
  })
})
