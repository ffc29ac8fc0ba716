// Client filenames are hostile input: what survives into the stored name and the header.
import { describe, expect, it } from 'vitest'
import { contentDisposition, sanitizeFilename } from '../../src/documents/content-disposition'

describe('sanitizeFilename', () => {
  it.each([
    ['Bank confirmation 2026.pdf', 'Bank confirmation 2026.pdf'],
    ['../../etc/passwd.pdf', 'passwd.pdf'],
    ['C:\\Users\\kim\\ledger.xlsx', 'ledger.xlsx'],
    ['report\u202Efdp.exe', 'reportfdp.exe'],
    ['tab\tand\nnewline.csv', 'tab and newline.csv'],
    ['null\u0000byte.pdf', 'nullbyte.pdf'],
    ['a<b>c:d"e|f?g*h.pdf', 'a_b_c_d_e_f_g_h.pdf'],
    ['  ..hidden.pdf. ', 'hidden.pdf'],
    ['...', 'document'],
    ['', 'document'],
    ['Übersicht.pdf', 'Übersicht.pdf'],
  ])('%j → %j', (raw, expected) => {
    expect(sanitizeFilename(raw)).toBe(expected)
  })

  it('keeps the extension when it shortens a long name', () => {
    const name = sanitizeFilename(`${'x'.repeat(300)}.pdf`)
    expect([...name].length).toBe(180)
    expect(name.endsWith('.pdf')).toBe(true)
  })
})

describe('contentDisposition', () => {
  it('gives an ASCII fallback and the exact UTF-8 name (RFC 6266, RFC 8187)', () => {
    expect(contentDisposition('Übersicht Konten.pdf')).toBe(
      `attachment; filename="_bersicht Konten.pdf"; filename*=UTF-8''%C3%9Cbersicht%20Konten.pdf`,
    )
  })

  it('cannot be broken out of: quotes, backslashes, percent signs and CRLF are neutralized', () => {
    const header = contentDisposition('evil"; filename="x.exe\r\nSet-Cookie: a=b%41.pdf')
    expect(header).not.toMatch(/[\r\n]/)
    expect(header).toBe(
      `attachment; filename="evil_; filename=_x.exe Set-Cookie_ a=b_41.pdf"; ` +
        `filename*=UTF-8''evil_%3B%20filename%3D_x.exe%20Set-Cookie_%20a%3Db%2541.pdf`,
    )
  })

  it('percent-encodes everything outside RFC 8187 attr-char', () => {
    const header = contentDisposition("it's (final) *v2*.pdf")
    const extended = header.split("filename*=UTF-8''")[1]
    expect(extended).toBe('it%27s%20%28final%29%20_v2_.pdf')
  })

  it('falls back to a neutral name when nothing printable remains', () => {
    expect(contentDisposition('報告')).toBe(
      `attachment; filename="document"; filename*=UTF-8''%E5%A0%B1%E5%91%8A`,
    )
  })
})
