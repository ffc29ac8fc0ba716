// What the load asks for, the same on both stacks: which users, which requests, which bodies.
import type { Answer, RequestSpec, SessionStep } from './load.ts'
import { benchPassword, type BenchOrganization, type BenchRequest, type BenchUser } from './seed.ts'
import { staffToken, type TokenSettings } from './tokens.ts'

/** Minted tokens, one per user, made once per run and shared by both stacks. */
export class TokenBook {
  private readonly tokens = new Map<string, string>()
  private readonly settings: TokenSettings

  constructor(settings: TokenSettings) {
    this.settings = settings
  }

  async prepare(organization: BenchOrganization, user: BenchUser): Promise<string> {
    const known = this.tokens.get(user.id)
    if (known !== undefined) return known
    const token = await staffToken(this.settings, organization.id, user)
    this.tokens.set(user.id, token)
    return token
  }

  get(user: BenchUser): string {
    const token = this.tokens.get(user.id)
    if (token === undefined) throw new Error(`no token prepared for ${user.email}`)
    return token
  }
}

const pick = <T>(items: readonly T[], index: number): T => {
  const item = items[index % items.length]
  if (item === undefined) throw new Error('nothing to pick from')
  return item
}

const byRole = (organization: BenchOrganization, role: BenchUser['role']) =>
  organization.users.filter((user) => user.role === role)

const readingRoles: readonly BenchUser['role'][] = ['member', 'manager', 'admin', 'owner']

/** A rotation over requests, endlessly; each call gives the next one. */
function rotation<T>(items: readonly T[]): () => T {
  let index = 0
  return () => pick(items, index++)
}

export interface ClosedScenario {
  name: string
  description: string
  /** A fresh request generator for one stack (counters restart, so both stacks match). */
  requests(stack: string): () => RequestSpec
}

export async function closedScenarios(
  organizations: readonly BenchOrganization[],
  tokens: TokenBook,
): Promise<ClosedScenario[]> {
  // One member per organization reads lists (cached per organization and role).
  const readers: { organization: BenchOrganization; token: string }[] = []
  // Every request once per role: each read is the first of its cache entry (entries are per
  // organization, role and path), so a response cache in front would only ever miss.
  const details: { requestId: string; token: string }[] = []
  // Writers are managers (items need that role).
  const writes: { request: BenchRequest; token: string }[] = []
  for (const organization of organizations) {
    const members = byRole(organization, 'member')
    const managers = byRole(organization, 'manager')
    const reader = pick(members, 0)
    readers.push({ organization, token: await tokens.prepare(organization, reader) })
    for (const [index, request] of organization.openRequests.entries()) {
      const manager = pick(managers, index)
      writes.push({ request, token: await tokens.prepare(organization, manager) })
    }
  }
  for (const role of readingRoles) {
    const pass: typeof details = []
    for (const organization of organizations) {
      const holders = byRole(organization, role)
      for (const [index, requestId] of organization.requestIds.entries()) {
        pass.push({ requestId, token: await tokens.prepare(organization, pick(holders, index)) })
      }
    }
    // Interleave organizations, so consecutive requests hit different tenants.
    details.push(...pass.sort((a, b) => (a.requestId < b.requestId ? -1 : 1)))
  }
  writes.sort((a, b) => (a.request.id < b.request.id ? -1 : 1))

  return [
    {
      name: 'list (cached)',
      description:
        'GET /v1/requests, first page (50), by one member of each of the organizations in turn: ' +
        'after the warm-up every answer should come from the response cache (X-Cache: HIT).',
      requests() {
        const next = rotation(readers)
        return () => ({ method: 'GET', path: '/v1/requests', token: next().token })
      },
    },
    {
      name: 'detail (uncached)',
      description:
        'GET /v1/requests/{id} over every request, once per role, each by a user of its ' +
        'organization: no answer can come from a cache (see the cache hits column).',
      requests() {
        const next = rotation(details)
        return () => {
          const { requestId, token } = next()
          return { method: 'GET', path: `/v1/requests/${requestId}`, token }
        }
      },
    },
    {
      name: 'write (create item)',
      description:
        'POST /v1/requests/{id}/items by a manager, over the open requests in turn: the item ' +
        'and its activity event are written together, and the list cache is invalidated.',
      requests(stack) {
        const next = rotation(writes)
        let counter = 0
        return () => {
          const { request, token } = next()
          counter += 1
          const body = JSON.stringify({
            reference: `LOAD-${stack}-${counter}`,
            title: `Supporting schedule ${counter}`,
            section: 'Bench',
          })
          return { method: 'POST', path: `/v1/requests/${request.id}/items`, token, body }
        }
      },
    },
  ]
}

interface VirtualUser {
  organization: BenchOrganization
  user: BenchUser
  token: string | undefined
  request: BenchRequest
}

/**
 * The session of one person: sign in, list requests, open one, comment on it, ask for an
 * upload URL for one of its items. Users who start mid-session (see runOpen) hold a token
 * minted as a sign-in would have made it.
 */
export async function sessionSteps(
  organizations: readonly BenchOrganization[],
  users: number,
  tokens: TokenBook,
): Promise<{ steps: SessionStep[]; reset: () => void }> {
  const everyone = organizations.flatMap((organization) =>
    organization.users.map((user) => ({ organization, user })),
  )
  const people: VirtualUser[] = []
  for (let index = 0; index < users; index += 1) {
    const { organization, user } = pick(everyone, index)
    const minted = await tokens.prepare(organization, user)
    people.push({
      organization,
      user,
      token: minted,
      request: pick(organization.openRequests, index),
    })
  }
  const minted = people.map((person) => person.token)
  const openById = new Map(
    organizations.flatMap((organization) =>
      organization.openRequests.map((request) => [request.id, request] as const),
    ),
  )
  const person = (index: number) => pick(people, index)
  const bearer = (index: number) => person(index).token ?? ''
  let comments = 0

  const steps: SessionStep[] = [
    {
      name: 'sign in',
      build(index) {
        const { organization, user } = person(index)
        return {
          method: 'POST',
          path: '/v1/auth/login',
          token: '',
          body: JSON.stringify({
            organization: organization.slug,
            email: user.email,
            password: benchPassword,
          }),
        }
      },
      read(index, answer: Answer) {
        if (answer.status !== 200) return
        const parsed = JSON.parse(answer.body) as { accessToken?: string }
        if (parsed.accessToken !== undefined) person(index).token = parsed.accessToken
      },
    },
    {
      name: 'list requests',
      build: (index) => ({ method: 'GET', path: '/v1/requests', token: bearer(index) }),
      read(index, answer) {
        if (answer.status !== 200) return
        const page = JSON.parse(answer.body) as { data?: { id: string }[] }
        // Open one the list showed, if it is one that still takes comments and uploads.
        const candidates = (page.data ?? []).map((row) => openById.get(row.id))
        const choice = candidates.filter((request) => request !== undefined)
        if (choice.length > 0)
          person(index).request = pick(choice, Math.floor(Math.random() * choice.length))
      },
    },
    {
      name: 'open request',
      build: (index) => ({
        method: 'GET',
        path: `/v1/requests/${person(index).request.id}`,
        token: bearer(index),
      }),
    },
    {
      name: 'comment',
      build(index) {
        comments += 1
        const body = JSON.stringify({ body: `Uploaded the schedule, see version ${comments}.` })
        return {
          method: 'POST',
          path: `/v1/requests/${person(index).request.id}/comments`,
          token: bearer(index),
          body,
        }
      },
    },
    {
      name: 'upload URL',
      build(index) {
        const { request } = person(index)
        return {
          method: 'POST',
          path: `/v1/requests/${request.id}/items/${request.itemId}/uploads`,
          token: bearer(index),
          body: JSON.stringify({
            filename: 'Bank confirmation 2026.pdf',
            contentType: 'application/pdf',
            sizeBytes: 482_113,
          }),
        }
      },
    },
  ]
  // Both stacks start from the same population: minted tokens and first requests.
  const reset = () => {
    people.forEach((entry, index) => {
      entry.token = minted[index]
      entry.request = pick(entry.organization.openRequests, index)
    })
    comments = 0
  }
  return { steps, reset }
}
