import type { AppContext } from '../platform/hono'

const ipv4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/
const hextet = /^[0-9a-f]{1,4}$/

/** An IPv4 dotted quad as the two IPv6 groups it occupies (::ffff:192.0.2.1). */
function ipv4Groups(address: string): string[] {
  const [a = 0, b = 0, c = 0, d = 0] = address.split('.').map(Number)
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)]
}

/** The eight groups of an IPv6 address without leading zeros, or undefined if it is not one. */
function ipv6Groups(address: string): string[] | undefined {
  const halves = address.toLowerCase().split('::')
  if (halves.length > 2) return undefined
  const [head = '', tail] = halves
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')

  const side = tail === undefined ? left : right
  const last = side.at(-1)
  if (last !== undefined && ipv4.test(last)) side.splice(-1, 1, ...ipv4Groups(last))

  const written = left.length + right.length
  if (tail === undefined ? written !== 8 : written > 7) return undefined
  const groups = [...left, ...Array<string>(8 - written).fill('0'), ...right]
  if (!groups.every((group) => hextet.test(group))) return undefined
  return groups.map((group) => group.replace(/^0+(?=.)/, ''))
}

/**
 * The limiter key for an address: IPv4 as is, IPv6 by its /64 (which one subscriber usually
 * holds whole, so per-address keys would be free to rotate), anything else `unknown`.
 */
export function addressKey(raw: string | undefined): string {
  const address = raw?.trim() ?? ''
  if (ipv4.test(address)) return address

  const groups = ipv6Groups(address)
  if (!groups) return 'unknown'
  if (groups.slice(0, 6).join(':') === '0:0:0:0:0:ffff') {
    const [high = 0, low = 0] = groups.slice(6).map((group) => Number.parseInt(group, 16))
    return [high >> 8, high & 255, low >> 8, low & 255].join('.')
  }
  return `${groups.slice(0, 4).join(':')}::/64`
}

/**
 * The caller's address as Cloudflare saw it. `CF-Connecting-IP` is set by Cloudflare's edge
 * and overwrites whatever the client sent; `X-Forwarded-For` is whatever the client wrote,
 * so it is never read.
 */
export const clientAddress = (c: AppContext) => addressKey(c.req.header('cf-connecting-ip'))
