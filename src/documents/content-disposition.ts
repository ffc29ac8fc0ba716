// Filenames come from clients: they may carry paths, control characters, bidirectional
// overrides that disguise an extension, or quotes that break out of a header parameter.

const maxLength = 180
const fallbackName = 'document'

// C0 and C1 controls, DEL, and the bidi embedding/override/isolate marks (Unicode TR9).
const unsafeCharacters = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g
// Characters Windows and common shells refuse or treat specially in a file name.
const reservedCharacters = /[<>:"|?*\\/]/g

/**
 * The name a document keeps: the last path segment, no controls, no reserved characters,
 * no leading or trailing dots and spaces, at most 180 characters (extension kept).
 */
export function sanitizeFilename(raw: string): string {
  const lastSegment = raw.split(/[\\/]/).pop() ?? ''
  let name = lastSegment
    .normalize('NFC')
    .replace(/\s+/g, ' ')
    .replace(unsafeCharacters, '')
    .replace(reservedCharacters, '_')
    .replace(/^[\s.]+|[\s.]+$/g, '')

  const characters = [...name]
  if (characters.length > maxLength) {
    const dot = name.lastIndexOf('.')
    const extension = dot > 0 ? [...name.slice(dot)] : []
    const keep = extension.length > 0 && extension.length <= 16 ? extension : []
    name = [...characters.slice(0, maxLength - keep.length), ...keep].join('').trim()
  }
  return name === '' ? fallbackName : name
}

// RFC 8187 attr-char: what may stay unencoded inside `filename*`.
const attrChar = /[A-Za-z0-9!#$&+\-.^_`|~]/

function encodeExtValue(value: string): string {
  let out = ''
  for (const byte of new TextEncoder().encode(value)) {
    const character = String.fromCharCode(byte)
    out +=
      byte < 0x80 && attrChar.test(character)
        ? character
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/** A quoted-string fallback for agents without RFC 8187 support: printable ASCII only. */
function asciiFallback(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\%]/g, '_')
  return ascii.replace(/^_+$/, fallbackName)
}

/**
 * `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266 §4.3): agents that understand
 * `filename*` use the exact UTF-8 name, older ones the ASCII approximation.
 */
export function contentDisposition(filename: string): string {
  const name = sanitizeFilename(filename)
  return `attachment; filename="${asciiFallback(name)}"; filename*=UTF-8''${encodeExtValue(name)}`
}
