import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

// This file sits one level below the package root (src/paths.ts).
export const PUBLIC_DIR = fileURLToPath(new URL('../public/', import.meta.url))

/** Chart.js's UMD build, served from node_modules: the dashboard needs no CDN. */
export const CHART_JS = join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js')
