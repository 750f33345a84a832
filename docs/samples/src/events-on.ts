const off = herd.on('stale', ({ key, tier, reason }) => metrics.increment('cache.stale', { tier, reason }))
off()
