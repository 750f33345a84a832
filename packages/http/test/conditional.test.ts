import { describe, expect, it } from 'vitest'
import { etagMatches, isNotModified } from '../src/conditional.js'

describe('etagMatches', () => {
  it('compares weakly, in a list, and with *', () => {
    expect(etagMatches('"a"', '"a"')).toBe(true)
    expect(etagMatches('W/"a"', '"a"')).toBe(true)
    expect(etagMatches('"a"', 'W/"a"')).toBe(true)
    expect(etagMatches('"x", W/"a" , "y"', 'W/"a"')).toBe(true)
    expect(etagMatches('*', '"a"')).toBe(true)
    expect(etagMatches('"b"', '"a"')).toBe(false)
    expect(etagMatches('', '"a"')).toBe(false)
  })
})

describe('isNotModified', () => {
  const lastModified = Date.parse('Wed, 01 Jan 2025 00:00:00 GMT')

  it('answers If-None-Match against the ETag', () => {
    expect(isNotModified({ 'if-none-match': '"a"' }, '"a"', undefined)).toBe(true)
    expect(isNotModified({ 'if-none-match': '"b"' }, '"a"', lastModified)).toBe(false)
    expect(isNotModified({ 'if-none-match': '"a"' }, undefined, lastModified)).toBe(false)
  })

  it('ignores If-Modified-Since when If-None-Match is present', () => {
    expect(isNotModified({ 'if-none-match': '"b"', 'if-modified-since': 'Thu, 01 Jan 2026 00:00:00 GMT' }, '"a"', lastModified)).toBe(false)
  })

  it('answers If-Modified-Since against Last-Modified', () => {
    expect(isNotModified({ 'if-modified-since': 'Wed, 01 Jan 2025 00:00:00 GMT' }, undefined, lastModified)).toBe(true)
    expect(isNotModified({ 'if-modified-since': 'Thu, 01 Jan 2026 00:00:00 GMT' }, undefined, lastModified)).toBe(true)
    expect(isNotModified({ 'if-modified-since': 'Tue, 31 Dec 2024 00:00:00 GMT' }, undefined, lastModified)).toBe(false)
    expect(isNotModified({ 'if-modified-since': 'garbage' }, undefined, lastModified)).toBe(false)
    expect(isNotModified({ 'if-modified-since': 'Thu, 01 Jan 2026 00:00:00 GMT' }, undefined, undefined)).toBe(false)
  })

  it('is false without conditional headers', () => {
    expect(isNotModified({}, '"a"', lastModified)).toBe(false)
  })
})
