// The browser side of a direct upload: the API signs, the browser PUTs the bytes to object
// storage itself (XMLHttpRequest, for upload progress), then the API verifies and versions.
'use strict'

const form = document.getElementById('upload')
const bar = document.getElementById('progress')
const statusLine = document.getElementById('status')
const output = document.getElementById('result')

function say(text) {
  statusLine.textContent = text
}

async function api(token, path, init = {}) {
  const headers = { authorization: `Bearer ${token}` }
  if (init.body !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(path, { ...init, headers })
  const body = await response.json().catch(() => null)
  if (!response.ok) {
    throw new Error(
      `${init.method ?? 'GET'} ${path} answered ${response.status}: ${JSON.stringify(body)}`,
    )
  }
  return body
}

async function sha256(buffer) {
  const digest = await crypto.subtle.digest('SHA-256', buffer)
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, '0')).join('')
}

/** PUT with every signed header; the browser itself sets content-length from the body. */
function put(upload, file, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest()
    request.open(upload.method, upload.url)
    for (const [name, value] of Object.entries(upload.headers)) {
      if (name !== 'content-length') request.setRequestHeader(name, value)
    }
    request.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total)
    })
    request.addEventListener('load', () => {
      if (request.status >= 200 && request.status < 300) resolve()
      else reject(new Error(`the store answered ${request.status}: ${request.responseText}`))
    })
    request.addEventListener('error', () =>
      reject(new Error('the upload failed (network or CORS)')),
    )
    request.send(file)
  })
}

async function run(token, requestId, itemId, file) {
  const item = `/v1/requests/${encodeURIComponent(requestId)}/items/${encodeURIComponent(itemId)}`
  const bytes = await file.arrayBuffer()
  const uploadedSha256 = await sha256(bytes)

  say('Asking the API for an upload URL…')
  const intent = await api(token, `${item}/uploads`, {
    method: 'POST',
    body: JSON.stringify({
      filename: file.name,
      contentType: file.type || 'application/octet-stream',
      sizeBytes: file.size,
      checksumSha256: uploadedSha256,
    }),
  })

  say('Uploading straight to storage…')
  const progress = []
  await put(intent.upload, file, (loaded, total) => {
    progress.push({ loaded, total })
    bar.value = loaded / total
    say(`Uploading straight to storage… ${Math.round((100 * loaded) / total)} %`)
  })

  say('Verifying…')
  const version = await api(token, intent.completePath, { method: 'POST' })
  const versions = await api(token, `${item}/documents`)
  const link = await api(token, `/v1/documents/${version.id}/download`)
  const served = await fetch(link.url)
  const back = await served.arrayBuffer()

  return {
    documentId: intent.documentId,
    uploadHost: new URL(intent.upload.url).host,
    version,
    listed: versions.data.map((entry) => entry.id),
    progress,
    uploadedSha256,
    downloadedSha256: await sha256(back),
    downloadedBytes: back.byteLength,
    contentDisposition: served.headers.get('content-disposition'),
  }
}

form.addEventListener('submit', (event) => {
  event.preventDefault()
  const data = new FormData(form)
  const file = data.get('file')
  document.body.dataset.state = 'running'
  run(String(data.get('token')), String(data.get('requestId')), String(data.get('itemId')), file)
    .then((result) => {
      window.uploadResult = result
      output.textContent = JSON.stringify(result, null, 2)
      say('Done: stored, verified, listed and read back.')
      document.body.dataset.state = 'done'
    })
    .catch((error) => {
      window.uploadError = String(error && error.message ? error.message : error)
      say(window.uploadError)
      document.body.dataset.state = 'failed'
    })
})
