import { herdCache } from '@herd/express'

app.get('/me', herdCache({ ttl: '1m', key: (req, url) => (req.user ? { key: url, user: req.user.id } : url) }), handler)
