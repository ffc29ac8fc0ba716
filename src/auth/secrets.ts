/**
 * Opaque secrets handed to clients: refresh tokens, invitation tokens, portal sign-in links.
 * 32 random bytes, a short prefix naming the kind (so a leaked one is recognisable, and one
 * kind is never mistaken for another), and only the SHA-256 hash is ever stored.
 */
import { sha256Hex } from '../platform/digest'

export const secretKinds = {
  refresh: 'cmr_',
  invitation: 'cmi_',
  portalLink: 'cml_',
} as const

export type SecretKind = keyof typeof secretKinds

const toBase64Url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '')

/** 32 bytes are 43 base64url characters. */
export const secretPattern = (kind: SecretKind) =>
  new RegExp(`^${secretKinds[kind]}[A-Za-z0-9_-]{43}$`)

export async function hashSecret(secret: string): Promise<string> {
  return sha256Hex(secret)
}

export interface IssuedSecret {
  /** Goes to the client once and is never stored. */
  secret: string
  hash: string
}

export async function newSecret(kind: SecretKind): Promise<IssuedSecret> {
  const secret = secretKinds[kind] + toBase64Url(crypto.getRandomValues(new Uint8Array(32)))
  return { secret, hash: await hashSecret(secret) }
}
