// The values contract has one owner: src/api/chart-values.ts. The chart's values.schema.json and
// values.yaml are generated from it (make crd), and helm checks every render against the schema.
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { parseAllDocuments } from 'yaml'
import { VALUES_PATH, VALUES_SCHEMA_PATH, valuesSchemaJson, valuesYaml } from '../../src/core/chart-values-files.js'
import { CHART_PATH, HELM_BIN, ROOT } from '../helpers/env.js'

t.test('the committed values.schema.json and values.yaml are the generated ones (make crd)', async (t) => {
  t.equal(readFileSync(join(ROOT, VALUES_SCHEMA_PATH), 'utf8'), valuesSchemaJson(), VALUES_SCHEMA_PATH)
  t.equal(readFileSync(join(ROOT, VALUES_PATH), 'utf8'), valuesYaml(), VALUES_PATH)
})

t.test('the chart renders from its own values alone, and every name comes from them', async (t) => {
  const out = execFileSync(HELM_BIN, ['template', 'any-release', CHART_PATH, '--namespace', 'example', '--kube-version', '1.35.0'], { encoding: 'utf8' })
  const objects = parseAllDocuments(out).map((d) => d.toJS() as { kind: string; metadata: { name: string; labels: Record<string, string> } } | null).filter((o) => o !== null)
  t.same(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort(), [
    'ConfigMap/promcluster-example-config',
    'Role/promcluster-example',
    'RoleBinding/promcluster-example',
    'Service/promcluster-example',
    'Service/promcluster-example-headless',
    'ServiceAccount/promcluster-example',
    'StatefulSet/promcluster-example'
  ])
  for (const o of objects) t.same(Object.keys(o.metadata.labels), ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/component', 'app.kubernetes.io/managed-by'], `${o.kind} labels, in order`)
})

t.test('helm refuses values that break the contract, naming the value', async (t) => {
  for (const [values, named] of [
    ['{"names":{"statefulSet":""}}', /statefulSet/],
    ['{"labels":{"selector":[]}}', /selector/],
    ['{"replicas":-1}', /replicas/],
    ['{"surprise":true}', /surprise/]
  ] as const) {
    const result = spawnSync(HELM_BIN, ['template', 'x', CHART_PATH, '--kube-version', '1.35.0', '--values', '-'], { input: values, encoding: 'utf8' })
    t.not(result.status, 0, values)
    t.match(result.stderr, named, values)
  }
})
