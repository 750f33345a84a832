import { createHerd } from '@herd/core'

const herd = createHerd({ ttl: '5m', staleWhileRevalidate: '30s', staleIfError: '1h' })
const product = await herd.fetch(`product:${id}`, ({ signal }) => db.product(id, { signal }))
