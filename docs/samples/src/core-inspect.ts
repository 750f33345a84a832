import { createHerd } from '@herd/core'

const herd = createHerd({ logger: console }) // pino works too: anything with error(fields, message) and warn(fields, message)

await herd.fetch(`user:${id}`, ({ signal }) => db.user(id, { signal }))
const seen = await herd.inspect(`user:${id}`)
// { key, at, shared: undefined (no Store), local: { state: 'fresh', fence, createdAt, freshUntil, …, until },
//   lease: undefined (no Lock), inFlight: false, heldOffUntil: undefined }
