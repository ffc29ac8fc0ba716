import { describe, expect, it } from 'vitest'
import {
  call,
  expectProblem,
  expectStatus,
  json,
  latestMail,
  roundTrips,
  seedTenant,
  tenantSnapshot,
  unique,
} from '../access/tenant'

interface Client {
  id: string
  name: string
  createdAt: string
  updatedAt: string
}

interface Contact {
  id: string
  clientId: string
  email: string
  name: string
  disabled: boolean
}

describe('clients', () => {
  it('creates, reads, lists, renames and deletes, one round trip each', async () => {
    const tenant = await seedTenant()
    const token = tenant.staff.manager.token

    const created = await call('/v1/clients', { token, body: { name: 'Northwind Ltd' } })
    expectStatus(created, 201)
    expect(roundTrips(created)).toBe(1)
    const client = json<Client>(created)
    expect(Object.keys(client).sort()).toEqual(['createdAt', 'id', 'name', 'updatedAt'])

    const read = await call(`/v1/clients/${client.id}`, { token: tenant.staff.member.token })
    expectStatus(read, 200)
    expect(roundTrips(read)).toBe(1)
    expect(json(read)).toEqual(client)

    const list = await call('/v1/clients', { token: tenant.staff.member.token })
    expectStatus(list, 200)
    expect(roundTrips(list)).toBe(1)
    expect(json<{ data: Client[] }>(list).data.map((row) => row.id)).toEqual([
      tenant.client.id,
      client.id,
    ])

    const renamed = await call(`/v1/clients/${client.id}`, {
      method: 'PATCH',
      token,
      body: { name: 'Northwind Group' },
    })
    expectStatus(renamed, 200)
    expect(roundTrips(renamed)).toBe(1)
    expect(json<Client>(renamed).name).toBe('Northwind Group')

    const deleted = await call(`/v1/clients/${client.id}`, {
      method: 'DELETE',
      token: tenant.staff.admin.token,
    })
    expectStatus(deleted, 204)
    expect(roundTrips(deleted)).toBe(1)
    expectProblem(await call(`/v1/clients/${client.id}`, { token }), 404, 'not_found')
  })

  it('answers 404 for malformed ids, without touching the database', async () => {
    const tenant = await seedTenant()
    const response = await call('/v1/clients/not-a-uuid', { token: tenant.staff.member.token })
    expectProblem(response, 404, 'not_found')
    expect(roundTrips(response)).toBe(0)
    const missing = await call(`/v1/clients/${crypto.randomUUID()}`, {
      token: tenant.staff.member.token,
    })
    const strip = (body: unknown) => {
      const { requestId: _r, instance: _i, ...rest } = body as Record<string, unknown>
      return rest
    }
    expect(strip(response.body)).toEqual(strip(missing.body))
  })

  it('refuses empty patches and unknown fields with 400', async () => {
    const tenant = await seedTenant()
    const token = tenant.staff.manager.token
    const path = `/v1/clients/${tenant.client.id}`
    expectProblem(await call(path, { method: 'PATCH', token, body: {} }), 400, 'validation_failed')
    expectProblem(
      await call(path, {
        method: 'PATCH',
        token,
        body: { name: 'x', organizationId: crypto.randomUUID() },
      }),
      400,
      'validation_failed',
    )
  })
})

describe('client contacts', () => {
  it('invites a contact: created, mailed a sign-in link, listed', async () => {
    const tenant = await seedTenant()
    const email = `Pat.${unique()}@Client.test`

    const created = await call(`/v1/clients/${tenant.client.id}/contacts`, {
      token: tenant.staff.manager.token,
      body: { email, name: 'Pat' },
    })
    expectStatus(created, 201)
    expect(roundTrips(created)).toBe(1)
    const contact = json<Contact>(created)
    expect(contact).toMatchObject({
      email: email.toLowerCase(),
      clientId: tenant.client.id,
      disabled: false,
    })

    const mail = await latestMail(email.toLowerCase())
    expect(mail?.kind).toBe('portal_invitation')
    expect(mail?.text).toMatch(/\/portal\/sign-in#token=cml_[A-Za-z0-9_-]{43}/)

    const list = await call(`/v1/clients/${tenant.client.id}/contacts`, {
      token: tenant.staff.member.token,
    })
    expectStatus(list, 200)
    expect(roundTrips(list)).toBe(1)
    const ids = json<{ data: Contact[] }>(list).data.map((row) => row.id)
    expect(ids).toEqual([tenant.contact.id, contact.id])
  })

  it('sends nothing with sendInvite false; refuses a duplicate email with 409', async () => {
    const tenant = await seedTenant()
    const email = `quiet-${unique()}@client.test`
    const body = { email, name: 'Quiet', sendInvite: false }
    const path = `/v1/clients/${tenant.client.id}/contacts`
    expectStatus(await call(path, { token: tenant.staff.manager.token, body }), 201)
    expect(await latestMail(email)).toBeUndefined()
    expectProblem(await call(path, { token: tenant.staff.manager.token, body }), 409, 'conflict')
  })

  it('lists an empty page for a client without contacts and 404 for a missing client', async () => {
    const tenant = await seedTenant()
    const created = json<Client>(
      await call('/v1/clients', { token: tenant.staff.manager.token, body: { name: 'Empty' } }),
    )
    const token = tenant.staff.member.token
    const empty = await call(`/v1/clients/${created.id}/contacts`, { token })
    expectStatus(empty, 200)
    expect(json(empty)).toEqual({ data: [], nextCursor: null })
    const missing = await call(`/v1/clients/${crypto.randomUUID()}/contacts`, { token })
    expectProblem(missing, 404, 'not_found')
  })

  it('pages contacts with a cursor', async () => {
    const tenant = await seedTenant()
    const path = `/v1/clients/${tenant.client.id}/contacts`
    for (let index = 0; index < 3; index += 1) {
      const email = `page-${index}-${unique()}@client.test`
      const body = { email, name: `P${index}`, sendInvite: false }
      expectStatus(await call(path, { token: tenant.staff.manager.token, body }), 201)
    }
    const first = json<{ data: Contact[]; nextCursor: string }>(
      await call(`${path}?limit=2`, { token: tenant.staff.member.token }),
    )
    const next = `${path}?limit=2&cursor=${first.nextCursor}`
    const second = json<{ data: Contact[]; nextCursor: string | null }>(
      await call(next, { token: tenant.staff.member.token }),
    )
    expect(first.data).toHaveLength(2)
    expect(second.data).toHaveLength(2)
    expect(second.nextCursor).toBeNull()
    expect(new Set([...first.data, ...second.data].map((row) => row.id)).size).toBe(4)
  })

  it('disables a contact: the portal session ends at once; deletes a contact', async () => {
    const tenant = await seedTenant()
    const path = `/v1/clients/${tenant.client.id}/contacts/${tenant.contact.id}`
    expectStatus(await call('/v1/portal/me', { token: tenant.portal.token }), 200)

    const disabled = await call(path, {
      method: 'PATCH',
      token: tenant.staff.manager.token,
      body: { disabled: true },
    })
    expectStatus(disabled, 200)
    expect(roundTrips(disabled)).toBe(1)
    expect(json<Contact>(disabled).disabled).toBe(true)
    expectProblem(await call('/v1/portal/me', { token: tenant.portal.token }), 401, 'unauthorized')

    const deleted = await call(path, { method: 'DELETE', token: tenant.staff.manager.token })
    expectStatus(deleted, 204)
    expect(roundTrips(deleted)).toBe(1)
    const again = await call(path, { method: 'DELETE', token: tenant.staff.manager.token })
    expectProblem(again, 404, 'not_found')
  })

  it('refuses a contact addressed under another client of the same firm', async () => {
    const tenant = await seedTenant()
    const other = json<Client>(
      await call('/v1/clients', { token: tenant.staff.manager.token, body: { name: 'Other' } }),
    )
    const before = await tenantSnapshot(tenant.organization.id)
    const wrongParent = `/v1/clients/${other.id}/contacts/${tenant.contact.id}`
    const token = tenant.staff.manager.token
    const patched = await call(wrongParent, { method: 'PATCH', token, body: { name: 'X' } })
    expectProblem(patched, 404, 'not_found')
    expectProblem(await call(wrongParent, { method: 'DELETE', token }), 404, 'not_found')
    expect(await tenantSnapshot(tenant.organization.id)).toEqual(before)
  })
})
