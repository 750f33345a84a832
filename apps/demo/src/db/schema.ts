import type { Driver } from './database.js'

/** Everything lives in its own schema, so a DATABASE_URL pointing at a real database never touches its tables. */
const SCHEMA = `
CREATE SCHEMA IF NOT EXISTS herd_demo;
CREATE TABLE IF NOT EXISTS herd_demo.products (
  id serial PRIMARY KEY,
  name text NOT NULL,
  category text NOT NULL,
  price_cents int NOT NULL
);
CREATE TABLE IF NOT EXISTS herd_demo.users (
  id serial PRIMARY KEY,
  name text NOT NULL,
  country text NOT NULL
);
CREATE TABLE IF NOT EXISTS herd_demo.orders (
  id serial PRIMARY KEY,
  user_id int NOT NULL REFERENCES herd_demo.users (id),
  product_id int NOT NULL REFERENCES herd_demo.products (id) ON DELETE CASCADE,
  quantity int NOT NULL,
  price_cents int NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_product_id ON herd_demo.orders (product_id);
CREATE INDEX IF NOT EXISTS orders_user_id ON herd_demo.orders (user_id);
`

const SEED_SIZE = { products: 2_000, users: 5_000, orders: 40_000 }

// Deterministic (setseed) and skewed: a few products sell far more than the rest, as real catalogs do.
// Runs only on an empty database, so a real PostgreSQL keeps its data (and its writes) across restarts.
const SEED = `
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM herd_demo.products) THEN
    PERFORM setseed(0.42);
    INSERT INTO herd_demo.products (name, category, price_cents)
      SELECT initcap((ARRAY['amber','brisk','cobalt','dusky','ember','frosty','golden','hazel'])[1 + g % 8]) || ' ' ||
             (ARRAY['kettle','lantern','novel','puzzle','record','trowel','whisk','yo-yo'])[1 + (g / 8) % 8] || ' ' || g,
             (ARRAY['books','games','garden','kitchen','music','toys'])[1 + g % 6],
             199 + (random() * 20000)::int
      FROM generate_series(1, ${SEED_SIZE.products}) g;
    INSERT INTO herd_demo.users (name, country)
      SELECT 'user' || g, (ARRAY['BR','DE','FR','IN','JP','US'])[1 + g % 6]
      FROM generate_series(1, ${SEED_SIZE.users}) g;
    INSERT INTO herd_demo.orders (user_id, product_id, quantity, price_cents, created_at)
      SELECT 1 + (random() * ${SEED_SIZE.users - 1})::int,
             1 + (power(random(), 3) * ${SEED_SIZE.products - 1})::int,
             1 + (random() * 4)::int,
             199 + (random() * 20000)::int,
             now() - random() * interval '90 days'
      FROM generate_series(1, ${SEED_SIZE.orders}) g;
    ANALYZE herd_demo.products, herd_demo.users, herd_demo.orders;
  END IF;
END $$;
`

export async function createSchema(driver: Driver): Promise<void> {
  await driver.exec(SCHEMA)
  await driver.exec(SEED)
}

export interface Product {
  id: number
  name: string
  category: string
  priceCents: number
}

export interface LeaderboardRow {
  id: number
  name: string
  category: string
  revenueCents: number
  units: number
  buyers: number
}

export interface UserProfile {
  id: number
  name: string
  country: string
  orders: number
  spentCents: number
}

export interface Order {
  id: number
  userId: number
  productId: number
  quantity: number
  priceCents: number
}

const PRODUCT_COLUMNS = `id, name, category, price_cents AS "priceCents"`

/** The SQL the service runs. Aggregates are cast to int/float8 so PGlite and pg both hand back numbers. */
export const SQL = {
  product: `SELECT ${PRODUCT_COLUMNS} FROM herd_demo.products WHERE id = $1`,

  // The hot, deliberately expensive query: a join over every order of the
  // last 30 days (no index on created_at), grouped per product, with a
  // count(DISTINCT) that sorts each group. Tens of ms on PGlite; run by
  // hundreds of requests at once, it is what a stampede does to a database.
  leaderboard: `
    SELECT p.id, p.name, p.category,
           sum(o.quantity * o.price_cents)::float8 AS "revenueCents",
           sum(o.quantity)::int AS units,
           count(DISTINCT o.user_id)::int AS buyers
    FROM herd_demo.orders o JOIN herd_demo.products p ON p.id = o.product_id
    WHERE o.created_at > now() - interval '30 days'
    GROUP BY p.id
    ORDER BY "revenueCents" DESC, p.id
    LIMIT 10`,

  user: `
    SELECT u.id, u.name, u.country,
           count(o.id)::int AS orders,
           coalesce(sum(o.quantity * o.price_cents), 0)::float8 AS "spentCents"
    FROM herd_demo.users u LEFT JOIN herd_demo.orders o ON o.user_id = u.id
    WHERE u.id = $1
    GROUP BY u.id`,

  updateProduct: `
    UPDATE herd_demo.products SET name = coalesce($2, name), price_cents = coalesce($3, price_cents)
    WHERE id = $1 RETURNING ${PRODUCT_COLUMNS}`,

  deleteProduct: `DELETE FROM herd_demo.products WHERE id = $1 RETURNING id`,

  // No row back when the user or the product doesn't exist.
  placeOrder: `
    INSERT INTO herd_demo.orders (user_id, product_id, quantity, price_cents, created_at)
    SELECT u.id, p.id, $3, p.price_cents, now()
    FROM herd_demo.users u, herd_demo.products p
    WHERE u.id = $1 AND p.id = $2
    RETURNING id, user_id AS "userId", product_id AS "productId", quantity, price_cents AS "priceCents"`,
}
