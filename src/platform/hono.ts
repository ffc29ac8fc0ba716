import { OpenAPIHono } from '@hono/zod-openapi'
import type { Context, MiddlewareHandler } from 'hono'
import type { Principal } from '../auth/principal'
import type { Services } from './services'
import { validationHook } from './validation'

/** Bindings are parsed into `Config` at the entry; handlers read `c.var`, never `c.env`. */
export interface AppEnv {
  Bindings: Record<string, unknown>
  Variables: Services & {
    requestId: string
    /** Set by `requireStaff` / `requirePortal`. */
    principal?: Principal
  }
}

export type AppContext = Context<AppEnv>
export type AppMiddleware = MiddlewareHandler<AppEnv>

/** Every feature router is made here so they all share the validation hook. */
export const createRouter = () => new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
