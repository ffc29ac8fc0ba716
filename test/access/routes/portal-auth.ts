import { defineRoutes } from '../matrix'

const linkToken = `cml_${'A'.repeat(43)}`

export const routes = defineRoutes([
  {
    route: 'POST /v1/portal/auth/links',
    access: { public: 'asks for a sign-in link; same answer for every email' },
    body: (t) => ({ organization: t.organization.slug, email: t.contact.email }),
  },
  {
    route: 'POST /v1/portal/auth/links/inspect',
    access: { public: 'the link token is the credential; inspecting changes nothing' },
    body: () => ({ token: linkToken }),
  },
  {
    route: 'POST /v1/portal/auth/sessions',
    access: { public: 'the link token is the credential' },
    body: () => ({ token: linkToken }),
  },
  { route: 'POST /v1/portal/auth/logout', access: { portal: true }, crossTenant: 'isolated' },
  { route: 'GET /v1/portal/me', access: { portal: true }, crossTenant: 'isolated' },
])
