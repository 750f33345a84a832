import pg from 'pg'
import type { Driver } from './database.js'

/** A real PostgreSQL server through `pg`, with as many connections as the budget. */
export async function postgresDriver(connectionString: string, budget: number): Promise<Driver> {
  const pool = new pg.Pool({ connectionString, max: budget, connectionTimeoutMillis: 10_000 })
  // An idle connection that dies (server restart) is reported here; without a listener it would crash the process.
  pool.on('error', (error) => console.error(`postgres: ${error.message}`))
  await pool.query('SELECT 1')
  const { hostname, port, pathname } = new URL(connectionString)
  return {
    description: `PostgreSQL ${hostname}:${port || 5432}${pathname} (pg pool of ${budget})`,
    async query(sql, params) {
      return (await pool.query(sql, params as unknown[])).rows
    },
    async exec(sql) {
      await pool.query(sql)
    },
    close: () => pool.end(),
  }
}
