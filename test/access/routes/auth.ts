import { defineRoutes } from '../matrix'
import { password, unique } from '../tenant'

const refreshToken = `cmr_${'A'.repeat(43)}`

export const routes = defineRoutes([
  {
    route: 'POST /v1/auth/signup',
    access: { public: 'creates an organization' },
    body: () => ({
      organization: { name: 'Matrix', slug: `matrix-${unique()}` },
      owner: { name: 'Owner', email: `owner-${unique()}@matrix.test`, password },
    }),
  },
  {
    route: 'POST /v1/auth/login',
    access: { public: 'exchanges a password for tokens' },
    body: (t) => ({ organization: t.organization.slug, email: t.staff.member.email, password }),
  },
  {
    route: 'POST /v1/auth/refresh',
    access: { public: 'the refresh token is the credential' },
    body: () => ({ refreshToken }),
  },
  {
    route: 'POST /v1/auth/logout',
    access: { public: 'the refresh token is the credential' },
    body: () => ({ refreshToken }),
  },
  { route: 'GET /v1/me', access: { staff: 'member' }, crossTenant: 'isolated' },
])
