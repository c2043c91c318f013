// Writes the generated CustomResourceDefinition to every place it is committed, the API reference
// generated from the same schemas, and the bundled chart's values schema and values (make crd).
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CRD_PATHS, crdYaml } from '../src/api/crd.js'
import { apiReference, REFERENCE_PATH } from '../src/api/reference.js'
import { VALUES_PATH, VALUES_SCHEMA_PATH, valuesSchemaJson, valuesYaml } from '../src/core/chart-values-files.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const text = crdYaml()
for (const path of CRD_PATHS) {
  const target = resolve(root, path)
  await mkdir(dirname(target), { recursive: true })
  await writeFile(target, text)
  console.log(`wrote ${path}`)
}
await mkdir(resolve(root, 'docs'), { recursive: true })
for (const [path, content] of [
  [REFERENCE_PATH, apiReference()],
  [VALUES_SCHEMA_PATH, valuesSchemaJson()],
  [VALUES_PATH, valuesYaml()]
] as const) {
  await writeFile(resolve(root, path), content)
  console.log(`wrote ${path}`)
}
