import { isBackgroundRefresh } from '@herd/express'
app.use((req, res, next) => (isBackgroundRefresh(req) ? next() : rateLimit(req, res, next)))
