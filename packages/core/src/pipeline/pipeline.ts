// placeholder, replaced by the real pipeline
import type { HerdOptions } from '../options.js'
export class HerdPipeline {
  readonly id = 'stub'
  constructor(_options: HerdOptions) {}
}
