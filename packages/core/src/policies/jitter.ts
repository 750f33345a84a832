/** ttl shortened by a uniform random factor in [1 - jitter, 1]: keys written together expire apart, never later than asked. */
export function jittered(ttl: number, jitter: number): number {
  return jitter > 0 ? Math.round(ttl * (1 - jitter * Math.random())) : ttl
}
