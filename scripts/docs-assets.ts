// Copies Swagger UI's browser files next to our own so /docs works offline; run before dev,
// test and deploy. The copies are build output and stay out of git.
import { copyFileSync, mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

const require = createRequire(import.meta.url)
const source = dirname(require.resolve('swagger-ui-dist/package.json'))
const target = join(import.meta.dirname, '..', 'public', 'docs', 'assets')

mkdirSync(target, { recursive: true })
for (const file of ['swagger-ui.css', 'swagger-ui-bundle.js']) {
  copyFileSync(join(source, file), join(target, file))
}
