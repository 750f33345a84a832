herd.fetch(key, async ({ signal, stale, setTtl, key }) => {
  const row = await db.query(sql, { signal })
  if (!row) return undefined          // "not found": cached for negativeTtl
  setTtl(row.volatile ? '10s' : '1h') // adaptive TTL; setTtl(0) = return it, don't cache it
  return row                          // null is a value, cached like any other
})
