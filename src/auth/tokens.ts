import { errors, jwtVerify, SignJWT, type JWTPayload } from 'jose'
import { staffRoles } from '../db/schema'
import type { Config } from '../env'
import type { PortalPrincipal, StaffPrincipal } from './principal'

// One algorithm, pinned on both sides: a token signed any other way never verifies.
const algorithm = 'HS256'

/**
 * Each kind of token has its own audience and header `typ`, so one can never be replayed
 * as another (RFC 8725 §3.11). Refresh tokens and sign-in links are opaque, not JWTs.
 */
export const tokenKinds = {
  staff: { audience: 'currentmesh:staff', typ: 'at+jwt' },
  portal: { audience: 'currentmesh:portal', typ: 'portal+jwt' },
} as const

export type TokenKind = keyof typeof tokenKinds

const keys = new Map<string, Uint8Array>()
const keyFor = (secret: string) => {
  let key = keys.get(secret)
  if (!key) {
    key = new TextEncoder().encode(secret)
    keys.set(secret, key)
  }
  return key
}

interface SignOptions {
  /** Seconds from now; defaults to ACCESS_TOKEN_TTL_SECONDS. */
  ttlSeconds?: number
  /** Clock override for tests of expiry. */
  now?: Date
}

async function sign(
  config: Config,
  kind: TokenKind,
  subject: string,
  claims: JWTPayload,
  options: SignOptions = {},
) {
  const issuedAt = Math.floor((options.now ?? new Date()).getTime() / 1000)
  const ttl = options.ttlSeconds ?? config.ACCESS_TOKEN_TTL_SECONDS
  return new SignJWT(claims)
    .setProtectedHeader({ alg: algorithm, typ: tokenKinds[kind].typ })
    .setIssuer(config.JWT_ISSUER)
    .setAudience(tokenKinds[kind].audience)
    .setSubject(subject)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + ttl)
    .setJti(crypto.randomUUID())
    .sign(keyFor(config.JWT_SECRET))
}

export function signStaffToken(config: Config, staff: StaffPrincipal, options?: SignOptions) {
  return sign(
    config,
    'staff',
    staff.userId,
    { org: staff.organizationId, role: staff.role, ver: staff.authVersion },
    options,
  )
}

export function signPortalToken(config: Config, portal: PortalPrincipal, options?: SignOptions) {
  return sign(
    config,
    'portal',
    portal.contactId,
    { org: portal.organizationId, client: portal.clientId, sid: portal.sessionId },
    options,
  )
}

export class InvalidTokenError extends Error {
  readonly reason: 'expired' | 'invalid'

  constructor(reason: 'expired' | 'invalid', cause?: unknown) {
    super(reason === 'expired' ? 'token expired' : 'token invalid', { cause })
    this.name = 'InvalidTokenError'
    this.reason = reason
  }
}

// The longest life this server ever signs for each kind: a token claiming more, or issued in
// the future, was not minted here as configured, whatever its signature says.
const longestLife = (config: Config, kind: TokenKind) =>
  kind === 'staff' ? config.ACCESS_TOKEN_TTL_SECONDS : config.PORTAL_SESSION_TTL_SECONDS

async function verify(config: Config, kind: TokenKind, token: string) {
  try {
    const { payload } = await jwtVerify(token, keyFor(config.JWT_SECRET), {
      algorithms: [algorithm],
      issuer: config.JWT_ISSUER,
      audience: tokenKinds[kind].audience,
      typ: tokenKinds[kind].typ,
      requiredClaims: ['exp', 'iat', 'sub', 'org'],
      maxTokenAge: longestLife(config, kind),
    })
    const lifetime = Number(payload.exp) - Number(payload.iat)
    if (lifetime > longestLife(config, kind)) throw new InvalidTokenError('invalid')
    return payload
  } catch (error) {
    if (error instanceof InvalidTokenError) throw error
    const expired = error instanceof errors.JWTExpired
    throw new InvalidTokenError(expired ? 'expired' : 'invalid', error)
  }
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const isUuid = (value: unknown): value is string =>
  typeof value === 'string' && uuidPattern.test(value)

export async function verifyStaffToken(config: Config, token: string): Promise<StaffPrincipal> {
  const payload = await verify(config, 'staff', token)
  const role = staffRoles.find((candidate) => candidate === payload.role)
  if (!isUuid(payload.sub) || !isUuid(payload.org) || !role || typeof payload.ver !== 'number') {
    throw new InvalidTokenError('invalid')
  }
  return {
    kind: 'staff',
    userId: payload.sub,
    organizationId: payload.org,
    role,
    authVersion: payload.ver,
  }
}

export async function verifyPortalToken(config: Config, token: string): Promise<PortalPrincipal> {
  const payload = await verify(config, 'portal', token)
  const { sub, org, client, sid } = payload
  if (!isUuid(sub) || !isUuid(org) || !isUuid(client) || !isUuid(sid)) {
    throw new InvalidTokenError('invalid')
  }
  return {
    kind: 'portal',
    contactId: sub,
    organizationId: org,
    clientId: client,
    sessionId: sid,
  }
}
