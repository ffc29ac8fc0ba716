// @ts-check
// BASELINE FOR THE BENCHMARK ONLY, not part of the product (see bench/README.md).
// The same token rules as the Worker (HS256 pinned, audience and typ per kind, required
// claims) and the same password format, PBKDF2-SHA256 through Node's thread pool.
import { createHash, pbkdf2, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'

import { SignJWT, jwtVerify } from 'jose'

const derive = promisify(pbkdf2)

export const roles = /** @type {const} */ (['member', 'manager', 'admin', 'owner'])
/** @typedef {(typeof roles)[number]} Role */
/** @typedef {{ userId: string, organizationId: string, role: Role, authVersion: number }} Staff */

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export class HttpError extends Error {
  /** @param {number} status @param {string} title @param {string} detail */
  constructor(status, title, detail) {
    super(detail)
    this.status = status
    this.title = title
  }
}

/** @param {{ JWT_SECRET: string, JWT_ISSUER: string, ACCESS_TOKEN_TTL_SECONDS: number }} config */
export function createTokens(config) {
  const key = new TextEncoder().encode(config.JWT_SECRET)
  return {
    /** @param {string | undefined} header @returns {Promise<Staff>} */
    async verify(header) {
      const token = header?.match(/^Bearer ([A-Za-z0-9._~+/=-]+)$/)?.[1]
      if (!token) throw new HttpError(401, 'Unauthorized', 'Send a bearer token.')
      let payload
      try {
        ;({ payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          issuer: config.JWT_ISSUER,
          audience: 'currentmesh:staff',
          typ: 'at+jwt',
          requiredClaims: ['exp', 'iat', 'sub', 'org'],
          maxTokenAge: config.ACCESS_TOKEN_TTL_SECONDS,
        }))
      } catch {
        throw new HttpError(401, 'Unauthorized', 'The access token is not valid.')
      }
      // A token claiming a longer life than this server signs for was not minted here.
      if (Number(payload.exp) - Number(payload.iat) > config.ACCESS_TOKEN_TTL_SECONDS) {
        throw new HttpError(401, 'Unauthorized', 'The access token is not valid.')
      }
      const role = roles.find((candidate) => candidate === payload.role)
      const org = payload.org
      if (
        !uuid.test(payload.sub ?? '') ||
        typeof org !== 'string' ||
        !uuid.test(org) ||
        !role ||
        typeof payload.ver !== 'number'
      ) {
        throw new HttpError(401, 'Unauthorized', 'The access token is not valid.')
      }
      return { userId: String(payload.sub), organizationId: org, role, authVersion: payload.ver }
    },

    /** @param {Staff} staff */
    sign(staff) {
      const issuedAt = Math.floor(Date.now() / 1000)
      return new SignJWT({ org: staff.organizationId, role: staff.role, ver: staff.authVersion })
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
        .setIssuer(config.JWT_ISSUER)
        .setAudience('currentmesh:staff')
        .setSubject(staff.userId)
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + config.ACCESS_TOKEN_TTL_SECONDS)
        .setJti(randomUUID())
        .sign(key)
    },
  }
}

/** @param {Role} role @param {Role} minimum */
export const roleAtLeast = (role, minimum) => roles.indexOf(role) >= roles.indexOf(minimum)

const decoy = { iterations: 100_000, salt: Buffer.alloc(16), hash: Buffer.alloc(32) }

/**
 * `pbkdf2-sha256$<iterations>$<salt>$<hash>`, as src/auth/passwords.ts writes it; an unknown
 * account still costs one full derivation.
 * @param {string} password @param {string | null | undefined} stored
 */
export async function verifyPassword(password, stored) {
  const [scheme, rounds, salt, hash] = (stored ?? '').split('$')
  const parsed =
    scheme === 'pbkdf2-sha256' && rounds && salt && hash
      ? {
          iterations: Number(rounds),
          salt: Buffer.from(salt, 'base64'),
          hash: Buffer.from(hash, 'base64'),
        }
      : undefined
  const target = parsed ?? decoy
  const secret = Buffer.from(password.normalize('NFKC'))
  const candidate = await derive(
    secret,
    target.salt,
    target.iterations,
    target.hash.length,
    'sha256',
  )
  return parsed !== undefined && timingSafeEqual(candidate, target.hash)
}

/** An opaque refresh token and the hash that is stored. */
export function newRefreshToken() {
  const secret = `cmr_${randomBytes(32).toString('base64url')}`
  return { secret, hash: createHash('sha256').update(secret).digest('hex') }
}
