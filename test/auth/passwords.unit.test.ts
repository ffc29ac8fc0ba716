import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { hashPassword, passwordParameters, verifyPassword } from '../../src/auth/passwords'
import { users } from '../../src/db/schema'
import { call, database, expectStatus, seedTenant } from '../access/tenant'

const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes))

/** A hash in our format with chosen parameters, as an older deployment would have stored. */
async function legacyHash(password: string, iterations: number) {
  const salt = crypto.getRandomValues(new Uint8Array(16))
  const secret = new TextEncoder().encode(password)
  const key = await crypto.subtle.importKey('raw', secret, 'PBKDF2', false, ['deriveBits'])
  const parameters = { name: 'PBKDF2', hash: 'SHA-256', salt, iterations }
  const bits = await crypto.subtle.deriveBits(parameters, key, 256)
  return `pbkdf2-sha256$${iterations}$${b64(salt)}$${b64(new Uint8Array(bits))}`
}

describe('password hashing', () => {
  it('stores PBKDF2-SHA256 at 100,000 iterations with a 16-byte salt and 32-byte key', async () => {
    const stored = await hashPassword('correct horse battery staple')
    const [scheme, iterations, salt, hash] = stored.split('$')
    expect(scheme).toBe('pbkdf2-sha256')
    expect(Number(iterations)).toBe(100_000)
    expect(passwordParameters.iterations).toBe(100_000)
    expect(atob(salt ?? '').length).toBe(16)
    expect(atob(hash ?? '').length).toBe(32)
    expect(await hashPassword('correct horse battery staple')).not.toBe(stored)
  })

  it('verifies the right password only', async () => {
    const stored = await hashPassword('correct horse battery staple')
    expect(await verifyPassword('correct horse battery staple', stored)).toEqual({
      ok: true,
      needsRehash: false,
    })
    expect((await verifyPassword('correct horse battery stapl', stored)).ok).toBe(false)
    expect((await verifyPassword('', stored)).ok).toBe(false)
  })

  it('normalizes Unicode (NFKC), so one password typed two ways is the same', async () => {
    const stored = await hashPassword('ﬁne password 123')
    expect((await verifyPassword('fine password 123', stored)).ok).toBe(true)
  })

  it('fails closed for no account, malformed hashes, iterations over the cap', async () => {
    expect((await verifyPassword('anything at all', undefined)).ok).toBe(false)
    expect((await verifyPassword('anything at all', null)).ok).toBe(false)
    expect((await verifyPassword('x', 'bcrypt$2b$10$abc')).ok).toBe(false)
    expect((await verifyPassword('x', 'pbkdf2-sha256$100000$%%%$%%%')).ok).toBe(false)
    const tooStrong = await legacyHash('x', 100_001)
    expect((await verifyPassword('x', tooStrong)).ok).toBe(false)
  })

  it('flags weaker stored parameters for rehashing, and login rehashes them', async () => {
    const old = 'an old password, kept'
    const weak = await legacyHash(old, 1_000)
    expect(await verifyPassword(old, weak)).toEqual({ ok: true, needsRehash: true })

    const tenant = await seedTenant()
    const { admin } = tenant.staff
    await database().update(users).set({ passwordHash: weak }).where(eq(users.id, admin.id))
    const login = await call('/v1/auth/login', {
      body: { organization: tenant.organization.slug, email: admin.email, password: old },
    })
    expectStatus(login, 200)

    const [row] = await database()
      .select({ passwordHash: users.passwordHash })
      .from(users)
      .where(eq(users.id, admin.id))
    expect(row?.passwordHash).toMatch(/^pbkdf2-sha256\$100000\$/)
    expect((await verifyPassword(old, row?.passwordHash)).ok).toBe(true)
  })
})
