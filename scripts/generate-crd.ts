// Writes the generated CustomResourceDefinition to every place it is committed, and the API
// reference generated from the same schemas (make crd).
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CRD_PATHS, crdYaml } from '../src/api/crd.js'
import { apiReference, REFERENCE_PATH } from '../src/api/reference.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const text = crdYaml()
for (const path of CRD_PATHS) {
  const target = resolve(root, path)
  await mkdir(dirname(target), { recursive: true })
  await writeFile(target, text)
  console.log(`wrote ${path}`)
}
await mkdir(resolve(root, 'docs'), { recursive: true })
await writeFile(resolve(root, REFERENCE_PATH), apiReference())
console.log(`wrote ${REFERENCE_PATH}`)
