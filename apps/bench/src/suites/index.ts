import { fleet } from './fleet.js'
import { hotPath } from './hot-path.js'
import { http } from './http.js'
import { many } from './many.js'
import { memory } from './memory.js'
import { stampede } from './stampede.js'
import { swr } from './swr.js'
import type { Suite } from './types.js'
import { xfetch } from './xfetch.js'

/** Every suite, in the order `pnpm bench` runs them and the report lists them. */
export const SUITES: readonly Suite[] = [stampede, fleet, swr, xfetch, hotPath, http, memory, many]

export function findSuite(name: string): Suite | undefined {
  const n = name.toLowerCase()
  return SUITES.find((s) => s.name === n || s.aliases.includes(n))
}
