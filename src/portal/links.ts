import type { Config } from '../env'

/**
 * Where a sign-in link points: the portal's page, which shows it and asks to continue. The
 * token sits in the fragment, which browsers never send, so it stays out of access logs.
 */
export const portalLinkUrl = (config: Config, token: string) =>
  `${config.PORTAL_BASE_URL}/sign-in#token=${token}`
