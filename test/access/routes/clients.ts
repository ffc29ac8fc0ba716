import { defineRoutes } from '../matrix'
import { unique } from '../tenant'

const contact = (t: { client: { id: string }; contact: { id: string } }) => ({
  clientId: t.client.id,
  id: t.contact.id,
})

export const routes = defineRoutes([
  { route: 'GET /v1/clients', access: { staff: 'member' }, crossTenant: 'isolated' },
  {
    route: 'POST /v1/clients',
    access: { staff: 'manager' },
    body: () => ({ name: 'Matrix client' }),
    crossTenant: 'isolated',
  },
  {
    route: 'GET /v1/clients/{id}',
    access: { staff: 'member' },
    params: (t) => ({ id: t.client.id }),
  },
  {
    route: 'PATCH /v1/clients/{id}',
    access: { staff: 'manager' },
    params: (t) => ({ id: t.client.id }),
    body: () => ({ name: 'Renamed' }),
  },
  {
    route: 'DELETE /v1/clients/{id}',
    access: { staff: 'admin' },
    params: (t) => ({ id: t.client.id }),
  },
  {
    route: 'GET /v1/clients/{id}/contacts',
    access: { staff: 'member' },
    params: (t) => ({ id: t.client.id }),
  },
  {
    route: 'POST /v1/clients/{id}/contacts',
    access: { staff: 'manager' },
    params: (t) => ({ id: t.client.id }),
    body: () => ({ email: `matrix-${unique()}@client.test`, name: 'Matrix' }),
  },
  {
    route: 'PATCH /v1/clients/{clientId}/contacts/{id}',
    access: { staff: 'manager' },
    params: contact,
    body: () => ({ disabled: true }),
  },
  {
    route: 'DELETE /v1/clients/{clientId}/contacts/{id}',
    access: { staff: 'manager' },
    params: contact,
  },
])
