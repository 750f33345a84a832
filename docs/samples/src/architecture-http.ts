import { herdCache } from '@herd/express'

app.use(herdCache('30s'))                                            // every GET/HEAD route
app.use(herdCache({ ttl: '30s', staleWhileRevalidate: '5m', herd })) // options, and a herd of your own
