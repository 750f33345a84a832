import { Database } from './database.js'
import { pgliteDriver } from './pglite.js'
import { postgresDriver } from './postgres.js'
import { createSchema } from './schema.js'

export { Database, type DbStats } from './database.js'
export * from './schema.js'

/** PostgreSQL through `pg` when `url` is set; otherwise PGlite, embedded. Schema created and seeded either way. */
export async function openDatabase({ url, budget }: { url?: string | undefined; budget: number }): Promise<Database> {
  const driver = url ? await postgresDriver(url, budget) : await pgliteDriver()
  try {
    await createSchema(driver)
  } catch (error) {
    await driver.close()
    throw error
  }
  return new Database(driver, budget)
}
