/** Number formatting shared by the console tables and the markdown report. */

export function ms(value: number): string {
  if (!Number.isFinite(value)) return '–'
  if (value >= 1000) return `${(value / 1000).toFixed(2)} s`
  if (value >= 100) return `${value.toFixed(0)} ms`
  if (value >= 10) return `${value.toFixed(1)} ms`
  if (value >= 1) return `${value.toFixed(2)} ms`
  return `${(value * 1000).toFixed(value * 1000 >= 10 ? 0 : 1)} µs`
}

export function us(valueMs: number): string {
  if (!Number.isFinite(valueMs)) return '–'
  const v = valueMs * 1000
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} µs`
}

export function int(value: number): string {
  if (!Number.isFinite(value)) return '–'
  return Math.round(value).toLocaleString('en-US')
}

export function opsPerSec(value: number): string {
  if (!Number.isFinite(value)) return '–'
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M/s`
  if (value >= 1e3) return `${(value / 1e3).toFixed(0)} k/s`
  return `${value.toFixed(0)} /s`
}

export function ratio(value: number): string {
  if (!Number.isFinite(value)) return '–'
  return `${value >= 10 ? value.toFixed(1) : value.toFixed(2)}×`
}

export function mb(bytes: number): string {
  if (!Number.isFinite(bytes)) return '–'
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

export function pct(value: number): string {
  if (!Number.isFinite(value)) return '–'
  return `${(value * 100).toFixed(value < 0.01 && value > 0 ? 2 : 1)}%`
}
