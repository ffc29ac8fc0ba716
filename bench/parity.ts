// Before any load: both stacks must answer the same requests with the same JSON (reads) or
// the same shape (writes, whose ids and timestamps differ), or the comparison means little.
import type { BenchOrganization } from './seed.ts'
import { benchPassword } from './seed.ts'
import type { TokenBook } from './scenarios.ts'

interface Answer {
  status: number
  json: unknown
}

async function ask(
  origin: string,
  method: 'GET' | 'POST',
  path: string,
  token: string | undefined,
  body?: unknown,
): Promise<Answer> {
  const headers: Record<string, string> = {}
  if (token !== undefined) headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(`${origin}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  })
  const text = await response.text()
  let json: unknown = text
  try {
    json = JSON.parse(text)
  } catch {
    // Not JSON: compared as text.
  }
  return { status: response.status, json }
}

const kind = (value: unknown) =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value

/** Paths where two JSON values differ: every value (`exact`) or only types and keys. */
function differences(
  a: unknown,
  b: unknown,
  exact: boolean,
  path = '$',
  out: string[] = [],
): string[] {
  if (out.length >= 10) return out
  if (kind(a) !== kind(b)) {
    // A nullable field may be null on one side and set on the other when values differ.
    if (exact || (a !== null && b !== null)) out.push(`${path}: ${kind(a)} vs ${kind(b)}`)
    return out
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (exact && a.length !== b.length) out.push(`${path}: ${a.length} vs ${b.length} entries`)
    const length = exact ? Math.min(a.length, b.length) : Math.min(1, a.length, b.length)
    for (let index = 0; index < length; index += 1) {
      differences(a[index], b[index], exact, `${path}[${index}]`, out)
    }
    return out
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const left = a as Record<string, unknown>
    const right = b as Record<string, unknown>
    for (const key of new Set([...Object.keys(left), ...Object.keys(right)])) {
      if (!(key in left)) out.push(`${path}.${key}: only in baseline`)
      else if (!(key in right)) out.push(`${path}.${key}: only in ours`)
      else differences(left[key], right[key], exact, `${path}.${key}`, out)
    }
    return out
  }
  if (exact && a !== b) out.push(`${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`)
  return out
}

export interface Parity {
  checked: string[]
  differences: string[]
}

export async function checkParity(
  ours: string,
  baseline: string,
  organizations: readonly BenchOrganization[],
  tokens: TokenBook,
): Promise<Parity> {
  const checked: string[] = []
  const found: string[] = []
  const [first, second] = organizations
  if (first === undefined || second === undefined)
    throw new Error('the seed made too few organizations')

  const member = first.users.find((user) => user.role === 'member')
  const manager = second.users.find((user) => user.role === 'manager')
  if (member === undefined || manager === undefined) throw new Error('the seed made no members')
  const reader = await tokens.prepare(first, member)
  const writer = await tokens.prepare(second, manager)

  async function compare(
    label: string,
    exact: boolean | 'status',
    method: 'GET' | 'POST',
    path: string | ((stack: 'ours' | 'baseline') => string),
    token: string | undefined,
    body?: (stack: 'ours' | 'baseline') => unknown,
  ) {
    const pathOf = (stack: 'ours' | 'baseline') => (typeof path === 'string' ? path : path(stack))
    const [a, b] = await Promise.all([
      ask(ours, method, pathOf('ours'), token, body?.('ours')),
      ask(baseline, method, pathOf('baseline'), token, body?.('baseline')),
    ])
    checked.push(label)
    if (a.status !== b.status) {
      found.push(`${label}: status ${a.status} vs ${b.status}`)
      if (a.status >= 300) found.push(`${label}: ours said ${JSON.stringify(a.json).slice(0, 300)}`)
      if (b.status >= 300)
        found.push(`${label}: baseline said ${JSON.stringify(b.json).slice(0, 300)}`)
      return
    }
    // Error bodies differ on purpose (ours is RFC 9457 with request ids): the status is the
    // contract compared.
    if (exact === 'status') return
    for (const difference of differences(a.json, b.json, exact))
      found.push(`${label}: ${difference}`)
  }

  await compare('GET /v1/requests', true, 'GET', '/v1/requests', reader)
  for (const request of first.openRequests.slice(0, 3)) {
    await compare(
      `GET /v1/requests/${request.id}`,
      true,
      'GET',
      `/v1/requests/${request.id}`,
      reader,
    )
  }
  await compare(
    'GET /v1/requests/{malformed id}',
    'status',
    'GET',
    '/v1/requests/not-a-uuid',
    reader,
  )
  await compare('POST /v1/auth/login', false, 'POST', '/v1/auth/login', undefined, () => ({
    organization: second.slug,
    email: manager.email,
    password: benchPassword,
  }))

  const target = second.openRequests[0]
  if (target !== undefined) {
    await compare(
      'POST /v1/requests/{id}/items',
      false,
      'POST',
      `/v1/requests/${target.id}/items`,
      writer,
      (stack) => ({ reference: `PARITY-${stack}`, title: 'Parity check item', section: 'Bench' }),
    )
    await compare(
      'POST /v1/requests/{id}/comments',
      false,
      'POST',
      `/v1/requests/${target.id}/comments`,
      writer,
      () => ({ body: 'Parity check comment' }),
    )
    await compare(
      'POST /v1/requests/{id}/items/{itemId}/uploads',
      false,
      'POST',
      `/v1/requests/${target.id}/items/${target.itemId}/uploads`,
      writer,
      () => ({ filename: 'Parity.pdf', contentType: 'application/pdf', sizeBytes: 1234 }),
    )
  }
  return { checked, differences: found }
}

/**
 * Which reads the Worker serves through its response cache (it says so in X-Cache), so the
 * baseline caches exactly those and no others.
 */
export async function probeCachedReads(
  ours: string,
  organizations: readonly BenchOrganization[],
  tokens: TokenBook,
): Promise<string[]> {
  const organization = organizations.at(-1)
  const member = organization?.users.find((user) => user.role === 'member')
  const requestId = organization?.requestIds[0]
  if (organization === undefined || member === undefined || requestId === undefined) return []
  const token = await tokens.prepare(organization, member)
  const reads = { list: '/v1/requests', detail: `/v1/requests/${requestId}` }
  const cached: string[] = []
  for (const [name, path] of Object.entries(reads)) {
    const response = await fetch(`${ours}${path}`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(10_000),
    })
    await response.arrayBuffer()
    if (response.headers.has('x-cache')) cached.push(name)
  }
  return cached
}
