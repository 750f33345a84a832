import { prometheusMetrics } from './prometheus.js' // the file above

const metrics = prometheusMetrics(herd, 'users')
app.get('/metrics', metrics.handler) // Express; any Node (req, res) server works the same way
