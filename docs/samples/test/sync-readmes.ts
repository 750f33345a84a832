// `pnpm --filter @herd/samples sync`: writes every sample file's text into the README blocks that name it.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, readmes, withSamples } from './readme-samples.js'

for (const readme of readmes()) {
  writeFileSync(join(ROOT, readme), withSamples(readme))
}
console.log('README samples written from docs/samples/src')
