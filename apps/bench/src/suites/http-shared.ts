/** What suite 6's servers answer, shared by the suite and its server process. */

export type Variant = 'express-bare' | 'express-herd' | 'express-apicache' | 'koa-bare' | 'koa-herd' | 'koa-cash'

export const PATH = '/products/42'
/** ~1 KB of JSON, as a product endpoint would return. */
export const BODY = JSON.stringify({
  id: 42,
  name: 'Stampede-proof umbrella',
  price: 39.5,
  currency: 'EUR',
  stock: 118,
  tags: ['rain', 'outdoor', 'travel', 'compact'],
  description: 'A compact umbrella with a vented canopy. '.repeat(18).trim(),
  updatedAt: '2025-01-01T00:00:00.000Z',
})
