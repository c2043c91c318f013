import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { parse } from 'yaml'
import { buildCrd, CRD_PATHS, crdYaml } from '../../src/api/crd.js'
import { apiReference, REFERENCE_PATH } from '../../src/api/reference.js'
import { ROOT } from '../helpers/env.js'

type Node = Record<string, unknown>

t.test('the committed CRD is exactly what the generator writes (run `make crd` after changing src/api)', async (t) => {
  const generated = crdYaml()
  for (const path of CRD_PATHS) t.equal(readFileSync(join(ROOT, path), 'utf8'), generated, path)
  t.equal(readFileSync(join(ROOT, REFERENCE_PATH), 'utf8'), apiReference(), REFERENCE_PATH)
})

function walk(node: unknown, path: string, visit: (node: Node, path: string) => void): void {
  if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${path}[${i}]`, visit))
  else if (node && typeof node === 'object') {
    visit(node as Node, path)
    for (const [k, v] of Object.entries(node)) walk(v, `${path}.${k}`, visit)
  }
}

const schema = () => {
  const crd = buildCrd() as { spec: { versions: { schema: { openAPIV3Schema: Node } }[] } }
  return crd.spec.versions[0]?.schema.openAPIV3Schema as Node
}

t.test('the schema is structural: no construct Kubernetes forbids', async (t) => {
  const problems: string[] = []
  walk(schema(), '$', (node, path) => {
    for (const key of ['$ref', '$id', '$schema', 'const', 'patternProperties', 'oneOf', 'allOf', 'not']) if (key in node) problems.push(`${path}: ${key}`)
    if (node.additionalProperties === false || node.additionalProperties === true) problems.push(`${path}: additionalProperties ${String(node.additionalProperties)}`)
    if ('anyOf' in node && node['x-kubernetes-int-or-string'] !== true) problems.push(`${path}: anyOf outside int-or-string`)
    if ('properties' in node && node.type !== 'object') problems.push(`${path}: properties without type object`)
  })
  t.same(problems, [])
})

t.test('every field of spec and status has a type and a description, for kubectl explain', async (t) => {
  const root = schema() as { properties: Record<string, Node> }
  const missing: string[] = []
  for (const top of ['spec', 'status']) {
    walk(root.properties[top], top, (node, path) => {
      if (!('properties' in node)) return
      for (const [name, child] of Object.entries(node.properties as Record<string, Node>)) {
        if (typeof child.description !== 'string' || child.description.length < 8) missing.push(`${path}.${name}: description`)
        if (!('type' in child) && child['x-kubernetes-int-or-string'] !== true) missing.push(`${path}.${name}: type`)
      }
    })
  }
  t.same(missing, [])
})

t.test('the CRD serves what the user journey needs', async (t) => {
  const crd = parse(crdYaml()) as { spec: { names: Node; versions: Node[] } }
  t.same(crd.spec.names.shortNames, ['promcluster', 'promclusters'])
  t.same(crd.spec.names.categories, ['monitoring'], 'not prometheus: kubectl get prometheus must list the objects of prometheus-operator')
  const version = crd.spec.versions[0] as { subresources: Node; additionalPrinterColumns: { name: string }[]; schema: { openAPIV3Schema: Node } }
  t.same(version.subresources, { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' } })
  t.same(version.additionalPrinterColumns.map((c) => c.name), ['Replicas', 'Ready', 'Version', 'Status', 'Reason', 'Age'])
  const root = version.schema.openAPIV3Schema as { properties: { spec: Node }; 'x-kubernetes-validations': { rule: string }[] }
  t.same(root.properties.spec.default, {}, 'spec may be omitted or {}')
  t.match(root['x-kubernetes-validations'][0]?.rule, /self\.metadata\.name\.size\(\) <= 40/)
  const spec = root.properties.spec as { properties: Record<string, Node> }
  t.equal(spec.properties.replicas?.default, 1)
  t.equal((spec.properties.storage?.properties as Record<string, Node>).size?.default, '8Gi')
})
