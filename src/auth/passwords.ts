/**
 * Password hashing: PBKDF2-HMAC-SHA256 through WebCrypto, the one password KDF Workers run
 * natively. Deployed Workers refuse more than 100,000 iterations (workerd issue 1346; the
 * local runtime accepts more, so never trust a local run), which is below OWASP's 600,000
 * for this KDF; the README weighs that. Hashes describe their own parameters
 * (`pbkdf2-sha256$<iterations>$<salt>$<hash>`) so a later raise rehashes on login.
 */
const scheme = 'pbkdf2-sha256'

export const passwordParameters = {
  iterations: 100_000,
  saltBytes: 16,
  keyBytes: 32,
} as const

// The platform's ceiling: a stored hash asking for more could never be verified deployed.
const maxIterations = 100_000

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes))
const fromBase64 = (text: string) => Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0))

async function derive(password: string, salt: Uint8Array, iterations: number, keyBytes: number) {
  // NFKC, so the same password typed on two keyboards is the same bytes (NIST SP 800-63B).
  const secret = new TextEncoder().encode(password.normalize('NFKC'))
  const key = await crypto.subtle.importKey('raw', secret, 'PBKDF2', false, ['deriveBits'])
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    key,
    keyBytes * 8,
  )
  return new Uint8Array(bits)
}

export async function hashPassword(password: string): Promise<string> {
  const { iterations, saltBytes, keyBytes } = passwordParameters
  const salt = crypto.getRandomValues(new Uint8Array(saltBytes))
  const hash = await derive(password, salt, iterations, keyBytes)
  return `${scheme}$${iterations}$${toBase64(salt)}$${toBase64(hash)}`
}

interface StoredHash {
  iterations: number
  salt: Uint8Array
  hash: Uint8Array
}

function parse(stored: string): StoredHash | undefined {
  const [name, rounds, salt, hash, ...rest] = stored.split('$')
  if (name !== scheme || rest.length > 0 || !rounds || !salt || !hash) return undefined
  const iterations = Number(rounds)
  const usable = Number.isInteger(iterations) && iterations >= 1 && iterations <= maxIterations
  if (!usable) return undefined
  try {
    return { iterations, salt: fromBase64(salt), hash: fromBase64(hash) }
  } catch {
    return undefined
  }
}

export interface PasswordCheck {
  ok: boolean
  /** The hash was made with weaker parameters than today's: store a fresh one. */
  needsRehash: boolean
}

// Stands in for the hash of an unknown account, so a miss costs the same derivation as a hit.
const decoy: StoredHash = {
  iterations: passwordParameters.iterations,
  salt: new Uint8Array(passwordParameters.saltBytes),
  hash: new Uint8Array(passwordParameters.keyBytes),
}

/**
 * Checks a password against a stored hash, in constant time. With `stored` undefined (no
 * such account) it still runs one full derivation and fails, so timing tells nothing.
 */
export async function verifyPassword(
  password: string,
  stored: string | null | undefined,
): Promise<PasswordCheck> {
  const parsed = stored ? parse(stored) : undefined
  const target = parsed ?? decoy
  const candidate = await derive(password, target.salt, target.iterations, target.hash.length)
  const same =
    candidate.length === target.hash.length && crypto.subtle.timingSafeEqual(candidate, target.hash)
  const ok = parsed !== undefined && same
  const needsRehash =
    ok &&
    (target.iterations < passwordParameters.iterations ||
      target.salt.length < passwordParameters.saltBytes ||
      target.hash.length < passwordParameters.keyBytes)
  return { ok, needsRehash }
}
