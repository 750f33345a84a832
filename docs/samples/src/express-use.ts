import express from 'express'
import { herdCache } from '@herd/express'

const app = express()
app.use(herdCache('30s'))                                          // every GET/HEAD route

app.get('/products/:id', herdCache({ ttl: '5m', staleWhileRevalidate: '1h' }), async (req, res) => {
  res.json(await db.product(req.params.id))                        // res.send, res.json, res.write/end, streams, sendFile…
})
