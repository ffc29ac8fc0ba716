// The limiter's notion of "one client": CF-Connecting-IP only, IPv6 by /64.
import { describe, expect, it } from 'vitest'
import { addressKey } from '../../src/rate-limit/client-ip'

describe('client address keys', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    [' 203.0.113.7 ', '203.0.113.7'],
    ['2001:db8:85a3:8d3:1319:8a2e:370:7348', '2001:db8:85a3:8d3::/64'],
    ['2001:0db8:85a3:08d3::1', '2001:db8:85a3:8d3::/64'],
    ['2001:DB8:85A3:8D3:ffff::', '2001:db8:85a3:8d3::/64'],
    ['::1', '0:0:0:0::/64'],
    ['::ffff:198.51.100.4', '198.51.100.4'],
    ['0:0:0:0:0:ffff:c633:6404', '198.51.100.4'],
  ])('keys %s as %s', (raw, key) => {
    expect(addressKey(raw)).toBe(key)
  })

  it('puts a whole /64 in one budget, and neighbouring /64s in their own', () => {
    expect(addressKey('2001:db8:1:2::a')).toBe(addressKey('2001:db8:1:2:ffff:ffff:ffff:ffff'))
    expect(addressKey('2001:db8:1:2::a')).not.toBe(addressKey('2001:db8:1:3::a'))
  })

  const malformed = [undefined, '', 'localhost', '256.1.1.1', '1.2.3', '1::2::3', '2001:db8::g']
  it.each([...malformed, '1:2:3:4:5:6:7:8:9', '10.0.0.1, 10.0.0.2'])(
    'keys %j as unknown',
    (raw) => {
      expect(addressKey(raw)).toBe('unknown')
    },
  )
})
