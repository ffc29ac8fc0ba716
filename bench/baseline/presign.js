// @ts-check
// BASELINE FOR THE BENCHMARK ONLY, not part of the product (see bench/README.md).
// A SigV4 query-signed PUT (the S3 presigned URL), every given header signed, as the
// Worker's signer does with aws4fetch.
import { createHash, createHmac } from 'node:crypto'

/** @param {string} value */
const sha256 = (value) => createHash('sha256').update(value).digest('hex')
/** @param {Buffer | string} key @param {string} value */
const hmac = (key, value) => createHmac('sha256', key).update(value).digest()
/** @param {string} value */
const encode = (value) =>
  encodeURIComponent(value).replace(
    /[!'()*]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
  )

/**
 * @param {{ endpoint: string, bucket: string, accessKeyId: string, secretAccessKey: string }} s3
 * @param {string} key @param {Record<string, string>} headers @param {number} ttlSeconds
 * @param {Date} now
 */
export function presignPut(s3, key, headers, ttlSeconds, now) {
  const path = key.split('/').map(encodeURIComponent).join('/')
  const url = new URL(`${s3.endpoint.replace(/\/+$/, '')}/${s3.bucket}/${path}`)
  const datetime = now.toISOString().replace(/[:-]|\.\d{3}/g, '')
  const date = datetime.slice(0, 8)
  const scope = `${date}/auto/s3/aws4_request`
  const signed = { ...headers, host: url.host }
  const names = Object.keys(signed)
    .map((name) => name.toLowerCase())
    .sort()

  url.searchParams.set('X-Amz-Expires', String(ttlSeconds))
  url.searchParams.set('X-Amz-Date', datetime)
  url.searchParams.set('X-Amz-Algorithm', 'AWS4-HMAC-SHA256')
  url.searchParams.set('X-Amz-Credential', `${s3.accessKeyId}/${scope}`)
  url.searchParams.set('X-Amz-SignedHeaders', names.join(';'))

  const query = [...url.searchParams]
    .map(([name, value]) => [encode(name), encode(value)])
    .sort(([a = ''], [b = '']) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&')
  const lower = Object.fromEntries(
    Object.entries(signed).map(([n, v]) => [n.toLowerCase(), v.trim()]),
  )
  const canonical = [
    'PUT',
    url.pathname,
    query,
    names.map((name) => `${name}:${lower[name]}\n`).join(''),
    names.join(';'),
    'UNSIGNED-PAYLOAD',
  ].join('\n')
  const toSign = ['AWS4-HMAC-SHA256', datetime, scope, sha256(canonical)].join('\n')
  let signingKey = hmac(`AWS4${s3.secretAccessKey}`, date)
  for (const part of ['auto', 's3', 'aws4_request']) signingKey = hmac(signingKey, part)
  url.searchParams.set('X-Amz-Signature', hmac(signingKey, toSign).toString('hex'))
  return url.toString()
}
