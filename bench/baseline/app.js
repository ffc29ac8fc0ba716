// @ts-check
// BASELINE FOR THE BENCHMARK ONLY, not part of the product (see bench/README.md).
// The seed document's design, given its best chance: Express 5, a pg Pool, a Redis cache
// and limiter, serving the endpoints the bench drives with the Worker's JSON, token rules,
// limits and cache semantics. Writes use a classic interactive transaction.
import { createHash, randomUUID } from 'node:crypto'

import express from 'express'

import {
  HttpError,
  createTokens,
  newRefreshToken,
  roleAtLeast,
  roles,
  verifyPassword,
} from './auth.js'
import { createCache, sha256Hex } from './cache.js'
import { createPool, meters, newMeter, query, serverTiming, transaction } from './db.js'
import { presignPut } from './presign.js'
import * as statements from './sql.js'

/** @param {NodeJS.ProcessEnv} env */
export function configFromEnv(env) {
  /** @param {string} name */
  const need = (name) => {
    const value = env[name]
    if (value === undefined || value === '') throw new Error(`${name} is required`)
    return value
  }
  /** @param {string} name @param {number} fallback */
  const number = (name, fallback) => Number(env[name] ?? fallback)
  return {
    PORT: number('PORT', 8788),
    DATABASE_URL: need('DATABASE_URL'),
    REDIS_URL: need('REDIS_URL'),
    REDIS_PREFIX: env.REDIS_PREFIX ?? 'baseline:',
    PG_POOL_MAX: number('PG_POOL_MAX', 10),
    JWT_SECRET: need('JWT_SECRET'),
    JWT_ISSUER: need('JWT_ISSUER'),
    ACCESS_TOKEN_TTL_SECONDS: number('ACCESS_TOKEN_TTL_SECONDS', 900),
    REFRESH_TOKEN_TTL_SECONDS: number('REFRESH_TOKEN_TTL_SECONDS', 60 * 60 * 24 * 30),
    CACHE_TTL_SECONDS: number('CACHE_TTL_SECONDS', 300),
    CACHE_PRINCIPAL_TTL_SECONDS: number('CACHE_PRINCIPAL_TTL_SECONDS', 60),
    // Which reads go through the response cache: `list`, `detail`, comma separated.
    CACHE_READS: (env.BASELINE_CACHE_READS ?? 'list,detail').split(',').filter(Boolean),
    RATE_LIMIT_QUOTA: number('RATE_LIMIT_QUOTA', 100),
    RATE_LIMIT_WINDOW_SECONDS: number('RATE_LIMIT_WINDOW_SECONDS', 900),
    UPLOAD_URL_TTL_SECONDS: number('UPLOAD_URL_TTL_SECONDS', 300),
    S3: {
      endpoint: need('S3_ENDPOINT'),
      bucket: need('S3_BUCKET'),
      accessKeyId: need('S3_ACCESS_KEY_ID'),
      secretAccessKey: need('S3_SECRET_ACCESS_KEY'),
    },
  }
}

/** @typedef {ReturnType<typeof configFromEnv>} Config */

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const notFound = (/** @type {string} */ what) => new HttpError(404, 'Not Found', `No such ${what}.`)
const badRequest = (/** @type {string} */ detail) => new HttpError(400, 'Bad Request', detail)

/** @param {unknown} value @param {number} max */
const text = (value, max) =>
  typeof value === 'string' && value.trim().length > 0 && value.length <= max

/** @param {Config} config */
export function createApp(config) {
  const pool = createPool(config.DATABASE_URL, config.PG_POOL_MAX)
  const cache = createCache(config.REDIS_URL, config.REDIS_PREFIX)
  const tokens = createTokens(config)
  const app = express()
  app.disable('x-powered-by')
  app.set('etag', false)

  /**
   * Sends JSON with the round-trip counts, as the Worker's Server-Timing reports them.
   * @param {import('express').Response} res @param {number} status @param {string} body
   * @param {Record<string, string>} [headers]
   */
  function reply(res, status, body, headers = {}) {
    const meter = meters.getStore()
    if (meter) res.setHeader('server-timing', serverTiming(meter))
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value)
    res.status(status).type('application/json').send(body)
  }

  /** Per-principal API limit, one Redis round trip. @param {import('./auth.js').Staff} staff */
  async function limitApi(staff) {
    const decision = await cache.limit(
      `api:user:${staff.userId}`,
      config.RATE_LIMIT_QUOTA,
      config.RATE_LIMIT_WINDOW_SECONDS,
    )
    if (!decision.allowed)
      throw new HttpError(429, 'Too Many Requests', 'The api limit is used up.')
  }

  /** @param {import('express').Request} req @param {import('./auth.js').Role} minimum */
  async function staffFor(req, minimum) {
    const staff = await tokens.verify(req.get('authorization'))
    if (!roleAtLeast(staff.role, minimum)) {
      throw new HttpError(403, 'Forbidden', `This action needs the ${minimum} role or higher.`)
    }
    await limitApi(staff)
    return staff
  }

  /** @param {import('./auth.js').Staff} staff @param {import('./auth.js').Role} minimum */
  const actorParams = (staff, minimum) => [
    staff.userId,
    staff.organizationId,
    staff.authVersion,
    roles.filter((role) => roleAtLeast(role, minimum)),
  ]

  app.use(function meterRequest(_req, _res, next) {
    meters.run(newMeter(), next)
  })
  app.use(express.json({ limit: '1mb' }))

  app.get('/health', (_req, res) => reply(res, 200, '{"status":"ok"}'))

  app.post('/v1/auth/login', async (req, res) => {
    const { organization, email, password } = req.body ?? {}
    if (!text(organization, 63) || !text(email, 254) || !text(password, 256)) {
      throw badRequest('organization, email and password are required.')
    }
    const limited = await cache.limit(
      `login:ip:${req.ip}`,
      config.RATE_LIMIT_QUOTA,
      config.RATE_LIMIT_WINDOW_SECONDS,
    )
    if (!limited.allowed)
      throw new HttpError(429, 'Too Many Requests', 'The login limit is used up.')

    const { rows } = await query(pool, statements.signIn, [organization, email.toLowerCase()])
    const account = rows[0]
    const ok = await verifyPassword(password, account?.password_hash)
    if (!account || !ok) {
      throw new HttpError(401, 'Unauthorized', 'The organization, email or password is incorrect.')
    }

    const refresh = newRefreshToken()
    await query(pool, statements.storeRefreshToken, [
      account.organization_id,
      account.id,
      refresh.hash,
      config.REFRESH_TOKEN_TTL_SECONDS,
    ])
    const accessToken = await tokens.sign({
      userId: account.id,
      organizationId: account.organization_id,
      role: account.role,
      authVersion: account.auth_version,
    })
    reply(
      res,
      200,
      JSON.stringify({
        accessToken,
        tokenType: 'Bearer',
        expiresIn: config.ACCESS_TOKEN_TTL_SECONDS,
        refreshToken: refresh.secret,
        refreshExpiresIn: config.REFRESH_TOKEN_TTL_SECONDS,
        user: {
          id: account.id,
          email: account.email,
          name: account.name,
          role: account.role,
          organization: {
            id: account.organization_id,
            name: account.organization_name,
            slug: account.organization_slug,
          },
        },
      }),
    )
  })

  /**
   * A read through the response cache, as the Worker's cache middleware does it: keyed by
   * organization, role, path and query; served while every scope version it was built on
   * holds and the caller's stored auth version was confirmed recently. Only for the routes
   * the Worker caches too (BASELINE_CACHE_READS, set by bench/run.ts from its X-Cache).
   * @param {import('express').Request} req @param {import('express').Response} res
   * @param {import('./auth.js').Staff} staff @param {string} route @param {string[]} scopes
   * @param {() => Promise<import('./cache.js').Cached>} produce
   */
  async function cachedRead(req, res, staff, route, scopes, produce) {
    if (!config.CACHE_READS.includes(route)) {
      const fresh = await produce()
      reply(res, 200, fresh.body, fresh.headers)
      return
    }
    const org = staff.organizationId
    const search = new URL(req.originalUrl, 'http://baseline').searchParams
    search.sort()
    const audience = `role:${staff.role}`
    const hash = sha256Hex(JSON.stringify([audience, req.path, search.toString()]))
    const entryKey = `rc:${org}:${hash}`
    const proofKey = `pv:u:${staff.userId}`
    const lookup = await cache.lookup(
      entryKey,
      proofKey,
      scopes.map((scope) => `cv:${org}:${scope}`),
    )
    const proven = lookup.proof === String(staff.authVersion)
    if (lookup.hit !== undefined && proven) {
      reply(res, 200, lookup.hit.body, { ...lookup.hit.headers, 'x-cache': 'HIT' })
      return
    }

    const fresh = await produce()
    const proof = proven
      ? undefined
      : {
          key: proofKey,
          value: String(staff.authVersion),
          ttlSeconds: config.CACHE_PRINCIPAL_TTL_SECONDS,
        }
    await cache.fill(entryKey, lookup.versions, fresh, config.CACHE_TTL_SECONDS, proof)
    reply(res, 200, fresh.body, { ...fresh.headers, 'x-cache': 'MISS' })
  }

  app.get('/v1/requests', async (req, res) => {
    const staff = await staffFor(req, 'member')
    const limit = Number(req.query.limit ?? 50)
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw badRequest('limit is 1 to 100.')

    await cachedRead(req, res, staff, 'list', ['requests', 'directory'], async () => {
      const { rows } = await query(pool, statements.listRequests, [
        ...actorParams(staff, 'member'),
        limit + 1,
      ])
      if (!rows[0]?.allowed) throw new HttpError(401, 'Unauthorized', 'Your account changed.')
      const present = rows.filter((row) => row.body !== null)
      const page = present.slice(0, limit)
      const last = page.at(-1)
      const nextCursor =
        present.length > limit && last
          ? Buffer.from(JSON.stringify(['-createdAt', last.sort_key, last.row_id])).toString(
              'base64url',
            )
          : null
      const body = JSON.stringify({ data: page.map((row) => row.body), nextCursor })
      const tag = createHash('sha256').update(body).digest().subarray(0, 18).toString('base64url')
      return { body, headers: { etag: `"${tag}"` } }
    })
  })

  app.get('/v1/requests/:id', async (req, res) => {
    const staff = await staffFor(req, 'member')
    const id = req.params.id
    if (!uuid.test(id)) throw notFound('request')

    await cachedRead(
      req,
      res,
      staff,
      'detail',
      [`request:${id.toLowerCase()}`, 'directory'],
      async () => {
        const { rows } = await query(pool, statements.readRequest, [
          ...actorParams(staff, 'member'),
          id,
        ])
        const row = rows[0]
        if (!row?.allowed) throw new HttpError(401, 'Unauthorized', 'Your account changed.')
        if (row.body === null) throw notFound('request')
        return { body: JSON.stringify(row.body), headers: { etag: `"${row.etag}"` } }
      },
    )
  })

  app.post('/v1/requests/:id/items', async (req, res) => {
    const staff = await staffFor(req, 'manager')
    const requestId = req.params.id
    if (!uuid.test(requestId)) throw notFound('request')
    const input = req.body ?? {}
    if (!text(input.reference, 50) || !text(input.title, 500)) {
      throw badRequest('reference and title are required.')
    }

    const org = staff.organizationId
    const body = await transaction(pool, async (client) => {
      const actor = await query(client, statements.lockActor, [staff.userId, org])
      const stored = actor.rows[0]
      if (!stored || stored.removed_at !== null || stored.auth_version !== staff.authVersion) {
        throw new HttpError(401, 'Unauthorized', 'Your account changed.')
      }
      const request = await query(client, statements.lockRequest, [requestId, org])
      const status = request.rows[0]?.status
      if (status === undefined) throw notFound('request')
      if (status === 'completed' || status === 'cancelled') {
        throw new HttpError(409, 'Conflict', `The request is ${status}; its items cannot change.`)
      }
      const created = await query(client, statements.insertItem, [
        org,
        requestId,
        input.reference,
        input.section ?? null,
        input.title,
        input.description ?? null,
      ])
      const item = created.rows[0]
      await query(client, statements.insertEvent, [
        org,
        requestId,
        item.id,
        staff.userId,
        'item.created',
        JSON.stringify({ reference: item.reference, title: item.title }),
      ])
      const view = await query(client, statements.readItem, [item.id])
      return JSON.stringify(view.rows[0]?.body)
    })
    await cache.bump([`cv:${org}:requests`, `cv:${org}:request:${requestId}`])
    reply(res, 201, body)
  })

  app.post('/v1/requests/:id/comments', async (req, res) => {
    const staff = await staffFor(req, 'member')
    const requestId = req.params.id
    if (!uuid.test(requestId)) throw notFound('request')
    const input = req.body ?? {}
    if (!text(input.body, 10_000)) throw badRequest('body is required.')
    const itemId = input.itemId ?? null
    if (itemId !== null && !uuid.test(itemId)) throw badRequest('itemId must be a uuid.')

    const org = staff.organizationId
    const body = await transaction(pool, async (client) => {
      const actor = await query(client, statements.lockActor, [staff.userId, org])
      const stored = actor.rows[0]
      if (!stored || stored.removed_at !== null || stored.auth_version !== staff.authVersion) {
        throw new HttpError(401, 'Unauthorized', 'Your account changed.')
      }
      const request = await query(client, statements.lockRequest, [requestId, org])
      if (request.rows[0] === undefined) throw notFound('request')
      const created = await query(client, statements.insertComment, [
        org,
        requestId,
        itemId,
        staff.userId,
        input.body,
        input.internal === true,
      ])
      const id = created.rows[0]?.id
      await query(client, statements.insertEvent, [
        org,
        requestId,
        itemId,
        staff.userId,
        'comment.created',
        JSON.stringify({ commentId: id }),
      ])
      const view = await query(client, statements.readComment, [id])
      return JSON.stringify(view.rows[0]?.body)
    })
    await cache.bump([`cv:${org}:requests`, `cv:${org}:request:${requestId}`])
    reply(res, 201, body)
  })

  app.post('/v1/requests/:id/items/:itemId/uploads', async (req, res) => {
    const staff = await staffFor(req, 'member')
    const { id: requestId, itemId } = req.params
    if (!uuid.test(requestId) || !uuid.test(itemId)) throw notFound('item')
    const input = req.body ?? {}
    if (
      !text(input.filename, 255) ||
      !text(input.contentType, 127) ||
      !Number.isInteger(input.sizeBytes) ||
      input.sizeBytes < 1
    ) {
      throw badRequest('filename, contentType and sizeBytes are required.')
    }
    const org = staff.organizationId
    const perOrganization = await cache.limit(
      `uploads:org:${org}`,
      config.RATE_LIMIT_QUOTA,
      config.RATE_LIMIT_WINDOW_SECONDS,
    )
    if (!perOrganization.allowed) throw new HttpError(429, 'Too Many Requests', 'Upload limit.')

    const target = await query(pool, statements.uploadTarget, [itemId, requestId, org])
    const found = target.rows[0]
    if (!found) throw notFound('item')
    if (
      found.item_status === 'accepted' ||
      !['draft', 'sent', 'in_progress'].includes(found.request_status)
    ) {
      throw new HttpError(409, 'Conflict', 'This item does not take uploads now.')
    }

    const documentId = randomUUID()
    const key = `${org}/${requestId}/${itemId}/${documentId}`
    const now = new Date()
    const expiresAt = new Date(
      Math.floor(now.getTime() / 1000) * 1000 + config.UPLOAD_URL_TTL_SECONDS * 1000,
    )
    const filename = String(input.filename).replace(/[<>:"|?*\\/]/g, '_')
    await query(pool, statements.insertUploadIntent, [
      documentId,
      org,
      requestId,
      itemId,
      key,
      filename,
      input.contentType,
      input.sizeBytes,
      input.checksumSha256 ?? null,
      staff.userId,
      expiresAt.toISOString(),
    ])
    const headers = {
      'content-type': input.contentType,
      'content-length': String(input.sizeBytes),
      'content-disposition':
        `attachment; filename="${filename}"; filename*=UTF-8''${encodeURIComponent(filename)}`,
      'if-none-match': '*',
    }
    const url = presignPut(config.S3, key, headers, config.UPLOAD_URL_TTL_SECONDS, now)
    reply(
      res,
      201,
      JSON.stringify({
        documentId,
        upload: { method: 'PUT', url, headers, expiresAt: expiresAt.toISOString() },
        completePath: `/v1/requests/${requestId}/items/${itemId}/uploads/${documentId}/complete`,
      }),
    )
  })

  app.use((_req, _res) => {
    throw notFound('route')
  })

  /**
   * Every failure leaves as problem+json with the round-trip counts so far.
   * @param {unknown} error @param {import('express').Request} _req
   * @param {import('express').Response} res @param {import('express').NextFunction} _next
   */
  function onError(error, _req, res, _next) {
    // Express's own errors (a body that is not JSON) carry a status; anything else is a 500.
    const raw =
      typeof error === 'object' && error !== null ? Reflect.get(error, 'status') : undefined
    const known = error instanceof HttpError
    const status = known ? error.status : typeof raw === 'number' ? raw : 500
    if (status >= 500) {
      process.stderr.write(
        `baseline error: ${error instanceof Error ? error.stack : String(error)}\n`,
      )
    }
    const title = known ? error.title : status === 400 ? 'Bad Request' : 'Internal Server Error'
    const detail = known
      ? error.message
      : status === 400
        ? 'The body is not valid JSON.'
        : 'Unexpected error.'
    const meter = meters.getStore()
    if (meter) res.setHeader('server-timing', serverTiming(meter))
    res
      .status(status)
      .type('application/problem+json')
      .send(JSON.stringify({ type: 'about:blank', title, status, detail }))
  }
  app.use(onError)

  return {
    app,
    close: async () => {
      await Promise.allSettled([pool.end(), cache.quit()])
    },
  }
}
