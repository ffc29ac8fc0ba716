// Calls against a started Worker that keep what a failing assertion needs: status, body text
// and the number of database round trips the Worker reported in Server-Timing.
import { expect } from 'vitest'
import type { ApiWorker } from '../support/api-worker.ts'
import { roundTripsIn } from '../../support/server-timing.ts'

export interface Answer {
  status: number
  headers: Headers
  text: string
  // The API's JSON bodies, read loosely: tests assert on the fields they care about.
  json: Record<string, unknown>
  /** Database round trips the request cost, from `Server-Timing: db;…;desc="N"`. */
  dbTrips: number | undefined
}

export function dbTrips(headers: Headers): number | undefined {
  return roundTripsIn(headers.get('server-timing'), 'db')
}

async function answer(response: Response): Promise<Answer> {
  const text = await response.text()
  let json: Record<string, unknown> = {}
  try {
    json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>)
  } catch {
    json = {}
  }
  return {
    status: response.status,
    headers: response.headers,
    text,
    json,
    dbTrips: dbTrips(response.headers),
  }
}

export async function call(
  worker: ApiWorker,
  method: string,
  path: string,
  token: string | undefined,
  body?: unknown,
  extra: Record<string, string> = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...extra }
  if (token) headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const response = await worker.fetch(path, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return answer(response)
}

/** Status check that prints the whole response when it fails. */
export function expectStatus(result: Answer, status: number) {
  expect(result.status, `${result.status} ${result.text}`).toBe(status)
}

export function expectTrips(result: Answer, atMost: number) {
  expect(result.dbTrips, `Server-Timing: ${result.headers.get('server-timing')}`).toBeDefined()
  expect(result.dbTrips ?? Infinity, result.text).toBeLessThanOrEqual(atMost)
}

export interface IntentBody {
  documentId: string
  upload: { method: 'PUT'; url: string; headers: Record<string, string>; expiresAt: string }
  completePath: string
}

export const intentOf = (result: Answer) => result.json as unknown as IntentBody

/**
 * A PUT straight to the store with the signed headers, each overridable for attacks. The
 * HTTP client sets content-length from the body itself (as browsers do), so a changed length
 * is sent by changing the body.
 */
export async function putObject(
  intent: IntentBody,
  bytes: Uint8Array,
  options: { url?: string; headers?: Record<string, string> } = {},
) {
  const { 'content-length': length, ...signed } = intent.upload.headers
  expect(length).toBe(String(intent.upload.headers['content-length']))
  const response = await fetch(options.url ?? intent.upload.url, {
    method: 'PUT',
    headers: { ...signed, ...options.headers },
    body: bytes,
  })
  return { status: response.status, text: await response.text() }
}

export const itemPath = (requestId: string, itemId: string) =>
  `/v1/requests/${requestId}/items/${itemId}`

export const portalItemPath = (requestId: string, itemId: string) =>
  `/v1/portal/requests/${requestId}/items/${itemId}`

export function pdfBytes(size: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(size)
  const header = new TextEncoder().encode('%PDF-1.7\n')
  for (let index = 0; index < size; index += 1) bytes[index] = (index * 31 + seed) % 251
  bytes.set(header.subarray(0, Math.min(size, header.length)))
  return bytes
}

export async function sha256Hex(bytes: Uint8Array) {
  const digest = await crypto.subtle.digest('SHA-256', bytes)
  return Buffer.from(digest).toString('hex')
}
