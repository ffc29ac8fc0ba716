// The access table the matrix test runs. Each feature declares its routes in
// test/access/routes/<feature>.ts (export `routes`); matrix.test.ts merges every such file and
// fails for any route the app registers that no file declares, and for stale declarations.
import type { StaffRole } from '../../src/auth/roles'
import type { Tenant } from './tenant'

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/** How a route is reached: without credentials, with a portal session, or as staff of a role. */
export type Access =
  | { public: string }
  | { portal: true }
  | { staff: StaffRole }

export interface RouteAccess {
  /** `METHOD /path/{param}`, exactly as the route is registered (OpenAPI path syntax). */
  route: `${Method} /${string}`
  access: Access
  /**
   * Path parameters addressing objects of the target tenant. May create what it needs (it
   * runs before the "nothing written" snapshot is taken).
   */
  params?: (target: Tenant) => Record<string, string> | Promise<Record<string, string>>
  /** A valid body, so a refusal can only come from the credentials. */
  body?: (target: Tenant) => unknown
  query?: string
  /**
   * What a caller of another organization (staff, or a portal contact elsewhere) gets:
   * `not_found` (the default when the path has parameters) — 404 with the same body as a
   * missing id; `isolated` — their own organization's answer, showing none of the target's
   * data and writing none of it.
   */
  crossTenant?: 'not_found' | 'isolated'
}

export const defineRoutes = (routes: RouteAccess[]) => routes
