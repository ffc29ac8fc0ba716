// Access tokens for load that does not measure sign-in itself. They carry exactly the claims
// and header a sign-in would (src/auth/tokens.ts), signed with the run's secret, so both
// stacks verify them the same way; the session mix signs in through the API instead.
import { randomBytes } from 'node:crypto'

import { SignJWT } from 'jose'

import type { BenchUser } from './seed.ts'

export interface TokenSettings {
  secret: string
  issuer: string
}

/** A fresh secret per run: nothing from one run can be replayed against another. */
export const newJwtSecret = () => `bench-${randomBytes(32).toString('base64url')}`

/**
 * The Worker refuses a token that claims a longer life than it signs for (its default
 * ACCESS_TOKEN_TTL_SECONDS, 15 minutes); a whole bench run fits well inside that.
 */
export async function staffToken(
  settings: TokenSettings,
  organizationId: string,
  user: BenchUser,
  ttlSeconds = 15 * 60,
): Promise<string> {
  const issuedAt = Math.floor(Date.now() / 1000)
  return new SignJWT({ org: organizationId, role: user.role, ver: user.authVersion })
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
    .setIssuer(settings.issuer)
    .setAudience('currentmesh:staff')
    .setSubject(user.id)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + ttlSeconds)
    .setJti(crypto.randomUUID())
    .sign(new TextEncoder().encode(settings.secret))
}
