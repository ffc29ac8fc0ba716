// `npm run seed`: a demo organization with realistic data, created through the running API
// (start `npm run dev` first) so every row is written by the same code paths users hit.
// Staff, clients and contacts, a PBC list imported from CSV, portal comments, a verified upload
// and a reviewed item. Run it again and it only prints the sign-in details.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

// The same PORT `npm run dev` listens on, so a second local instance is seeded, not the first.
const api = (process.env.API_URL ?? `http://localhost:${process.env.PORT ?? 8787}`).replace(/\/$/, '')
const slug = process.env.SEED_SLUG ?? 'harbor-pine'
const password = 'demo-password-2026'
const owner = { name: 'Avery Quinn', email: `avery@${slug}.test` }
const manager = { name: 'Morgan Lee', email: `morgan@${slug}.test` }
const member = { name: 'Sam Ortiz', email: `sam@${slug}.test` }
const contact = { name: 'Dana Whitfield', email: `dana@northwind.test` }

type Json = Record<string, unknown>

interface CallOptions {
  token?: string
  body?: unknown
  csv?: string
  expect?: number[]
}

async function call(method: string, path: string, options: CallOptions = {}): Promise<Json> {
  const headers: Record<string, string> = {}
  if (options.token) headers.authorization = `Bearer ${options.token}`
  if (method === 'POST') headers['idempotency-key'] = crypto.randomUUID()
  let body: string | undefined
  if (options.csv !== undefined) {
    headers['content-type'] = 'text/csv'
    body = options.csv
  } else if (options.body !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(options.body)
  }
  const response = await fetch(`${api}${path}`, { method, headers, body })
  const text = await response.text()
  const parsed = text ? (JSON.parse(text) as Json) : {}
  if (!(options.expect ?? [200, 201, 202]).includes(response.status)) {
    throw new Error(`${method} ${path} answered ${response.status}: ${text}`)
  }
  return { ...parsed, status: response.status }
}

const get = <T>(value: unknown, ...path: string[]): T => {
  let current = value
  for (const key of path) current = (current as Json)[key]
  return current as T
}

/** The newest mail for an address in the local outbox, and the token its link carries. */
async function tokenFromOutbox(email: string, pattern: RegExp) {
  const mail = await call('GET', `/v1/dev/outbox?to=${encodeURIComponent(email)}&limit=1`)
  const text = get<string>(mail, 'data', '0', 'text')
  const token = text.match(pattern)?.[0]
  if (!token) throw new Error(`no token in the mail to ${email}`)
  return token
}

async function main() {
  await call('GET', '/health/ready').catch((error: unknown) => {
    throw new Error(`the API at ${api} is not ready — is \`npm run dev\` running? (${String(error)})`)
  })

  const signup = await call('POST', '/v1/auth/signup', {
    body: {
      organization: { name: 'Harbor & Pine LLP', slug },
      owner: { ...owner, password },
    },
    expect: [201, 409],
  })
  if (signup.status === 409) {
    process.stdout.write(`demo organization "${slug}" exists already.\n`)
    return printSignIn()
  }
  const ownerToken = get<string>(signup, 'accessToken')

  for (const [person, role] of [[manager, 'manager'], [member, 'member']] as const) {
    await call('POST', '/v1/invitations', { token: ownerToken, body: { ...person, role } })
    const invitation = await tokenFromOutbox(person.email, /cmi_[A-Za-z0-9_-]{43}/)
    await call('POST', '/v1/invitations/accept', { body: { token: invitation, password } })
  }
  const managerSession = await call('POST', '/v1/auth/login', {
    body: { organization: slug, email: manager.email, password },
  })
  const managerToken = get<string>(managerSession, 'accessToken')
  const managerId = get<string>(managerSession, 'user', 'id')

  const northwind = await call('POST', '/v1/clients', {
    token: managerToken,
    body: { name: 'Northwind Traders Inc.' },
  })
  const bluefin = await call('POST', '/v1/clients', {
    token: managerToken,
    body: { name: 'Bluefin Logistics Ltd.' },
  })
  await call('POST', `/v1/clients/${get<string>(northwind, 'id')}/contacts`, {
    token: managerToken,
    body: { ...contact, sendInvite: false },
  })

  const yearEnd = await call('POST', '/v1/requests', {
    token: managerToken,
    body: {
      clientId: get<string>(northwind, 'id'),
      title: 'FY2026 year-end audit',
      description: 'Documents for the audit of the financial statements at 31 December 2026.',
      priority: 'high',
      dueDate: '2027-01-31',
      assigneeId: managerId,
    },
  })
  const requestId = get<string>(yearEnd, 'id')
  const csv = readFileSync(join(import.meta.dirname, '..', 'test', 'fixtures', 'pbc-list.csv'), 'utf8')
  await call('POST', `/v1/requests/${requestId}/import`, { token: managerToken, csv })
  await call('POST', `/v1/requests/${requestId}/transitions`, {
    token: managerToken,
    body: { to: 'sent' },
  })

  const interim = await call('POST', '/v1/requests', {
    token: managerToken,
    body: { clientId: get<string>(bluefin, 'id'), title: 'Q3 interim review', priority: 'medium' },
  })
  await call('POST', `/v1/requests/${get<string>(interim, 'id')}/items`, {
    token: managerToken,
    body: { reference: 'A-1', section: 'General', title: 'Interim trial balance' },
  })

  // The client signs in to the portal, comments, and uploads the bank statements.
  await call('POST', '/v1/portal/auth/links', { body: { organization: slug, email: contact.email } })
  const link = await tokenFromOutbox(contact.email, /cml_[A-Za-z0-9_-]{43}/)
  const portal = await call('POST', '/v1/portal/auth/sessions', { body: { token: link } })
  const portalToken = get<string>(portal, 'accessToken')

  const items = await call('GET', `/v1/portal/requests/${requestId}/items?limit=100`, { token: portalToken })
  const byReference = new Map(
    get<Json[]>(items, 'data').map((item) => [String(item.reference), String(item.id)]),
  )
  const bankStatements = byReference.get('C-1') ?? ''
  const trialBalance = byReference.get('A-1') ?? ''

  await call('POST', `/v1/portal/requests/${requestId}/comments`, {
    token: portalToken,
    body: { body: 'Statements for the two operating accounts are attached; the payroll account follows next week.', itemId: bankStatements },
  })
  for (const itemId of [bankStatements, trialBalance]) {
    await uploadAsPortal(portalToken, requestId, itemId)
  }

  await call('POST', `/v1/requests/${requestId}/items/${bankStatements}/return`, {
    token: managerToken,
    body: { reason: 'December statement is missing for account ending 4471.' },
  })
  await call('POST', `/v1/requests/${requestId}/items/${trialBalance}/accept`, { token: managerToken })
  await call('POST', `/v1/requests/${requestId}/comments`, {
    token: managerToken,
    body: { body: 'Trial balance agrees to the ledger; tick-marked in WP 100.', internal: true },
  })

  process.stdout.write('demo data created.\n')
  printSignIn()
}

async function uploadAsPortal(token: string, requestId: string, itemId: string) {
  const bytes = new TextEncoder().encode('%PDF-1.4\n% CurrentMesh demo document\n%%EOF\n')
  const intent = await call('POST', `/v1/portal/requests/${requestId}/items/${itemId}/uploads`, {
    token,
    body: { filename: 'Bank statements.pdf', contentType: 'application/pdf', sizeBytes: bytes.length },
  })
  const upload = get<{ url: string; headers: Record<string, string> }>(intent, 'upload')
  const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: bytes })
  if (!put.ok) throw new Error(`upload PUT answered ${put.status}: ${await put.text()}`)
  await call('POST', get<string>(intent, 'completePath'), { token })
}

function printSignIn() {
  process.stdout.write(
    [
      `  API:          ${api}  (reference: ${api}/docs)`,
      `  organization: ${slug}`,
      `  staff:        ${owner.email} (owner), ${manager.email} (manager), ${member.email} (member)`,
      `  password:     ${password}`,
      `  portal:       POST /v1/portal/auth/links with ${contact.email}; read the link in the`,
      `                outbox: GET /v1/dev/outbox?to=${contact.email}`,
      '',
    ].join('\n'),
  )
}

await main()
