// Writes the generated CustomResourceDefinition to every place it is committed (make crd).
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CRD_PATHS, crdYaml } from '../src/api/crd.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const text = crdYaml()
for (const path of CRD_PATHS) {
  const target = resolve(root, path)
  await mkdir(dirname(target), { recursive: true })
  await writeFile(target, text)
  console.log(`wrote ${path}`)
}
