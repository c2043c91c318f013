// charts/prometheus-cluster-controller/values.schema.json, written by hand: no TypeScript reads
// these values (the hook never sees them), so the JSON schema is their one definition. These tests
// hold it to values.yaml and to the templates, and show helm refusing what it forbids.
import { spawnSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { parse } from 'yaml'
import { CONTROLLER_CHART } from '../helpers/controller-chart.js'
import { HELM_BIN } from '../helpers/env.js'

interface Schema {
  type?: string
  properties?: Record<string, Schema>
  additionalProperties?: boolean | Schema
  required?: string[]
  items?: Schema
}

const schema = JSON.parse(readFileSync(join(CONTROLLER_CHART, 'values.schema.json'), 'utf8')) as Schema
const values = parse(readFileSync(join(CONTROLLER_CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Dotted paths of every key in `value` that the schema owns (stops where the schema has no properties). */
function valuePaths(value: Record<string, unknown>, node: Schema | undefined, prefix = ''): string[] {
  return Object.entries(value).flatMap(([key, child]) => {
    const path = `${prefix}${key}`
    const sub = node?.properties?.[key]
    return [path, ...(isMap(child) && sub?.properties ? valuePaths(child, sub, `${path}.`) : [])]
  })
}

/** Dotted paths of every property the schema declares, and the object levels it owns. */
function schemaPaths(node: Schema, prefix = ''): { paths: string[]; owned: { path: string; node: Schema }[] } {
  const paths: string[] = []
  const owned = node.properties ? [{ path: prefix || '(root)', node }] : []
  for (const [key, sub] of Object.entries(node.properties ?? {})) {
    paths.push(`${prefix}${key}`)
    const inner = schemaPaths(sub, `${prefix}${key}.`)
    paths.push(...inner.paths)
    owned.push(...inner.owned)
  }
  return { paths, owned }
}

t.test('the schema declares exactly the values values.yaml documents', async (t) => {
  const { paths } = schemaPaths(schema)
  t.same(valuePaths(values, schema).sort(), paths.sort())
})

t.test('every level the chart owns refuses unknown keys and says which keys it requires', async (t) => {
  const { owned } = schemaPaths(schema)
  t.ok(owned.length >= 15, `${owned.length} levels`)
  for (const { path, node } of owned) {
    t.equal(node.additionalProperties, false, `${path}: additionalProperties false`)
    for (const key of node.required ?? []) t.ok(node.properties && key in node.properties, `${path}: requires ${key}, which it declares`)
  }
})

t.test('every .Values path a template reads is in the schema', async (t) => {
  const dir = join(CONTROLLER_CHART, 'templates')
  const used = new Set<string>()
  for (const file of readdirSync(dir)) {
    for (const [, path = ''] of readFileSync(join(dir, file), 'utf8').matchAll(/\.Values((?:\.[A-Za-z0-9_]+)+)/g)) used.add(path.slice(1))
  }
  t.ok(used.size >= 15, `${used.size} paths`)
  const declared = new Set(schemaPaths(schema).paths)
  for (const path of used) t.ok(declared.has(path), path)
})

t.test('helm refuses values the schema forbids, naming them', async (t) => {
  const cases: [object, RegExp][] = [
    [{ surprise: true }, /surprise/],
    [{ serviceMonitor: { enabled: true, port: 9090 } }, /serviceMonitor.*port/],
    [{ serviceMonitor: { interval: '30 seconds' } }, /serviceMonitor\/interval/],
    [{ prometheusRule: { alerts: { hookErrors: { ratio: 5 } } } }, /hookErrors\/ratio/],
    [{ prometheusRule: { alerts: { down: { for: 5 } } } }, /down\/for/],
    [{ prometheusRule: { alerts: { paging: {} } } }, /paging/],
    [{ prometheusRule: { ruleLabels: { severity: 'page' } } }, /propertyName 'severity'/],
    [{ prometheusRule: { selector: '{job="x"}' } }, /selector/],
    [{ dashboard: { labels: { grafana_dashboard: 1 } } }, /grafana_dashboard/],
    [{ tls: { issuer: 'vault' } }, /issuer/],
    [{ logLevel: 'loud' }, /logLevel/],
    [{ replicas: 0 }, /replicas/],
    [{ compositeController: { hookTimeout: 'ten seconds' } }, /hookTimeout/]
  ]
  for (const [given, named] of cases) {
    const result = spawnSync(HELM_BIN, ['template', 'x', CONTROLLER_CHART, '--kube-version', '1.35.0', '--values', '-'], { input: JSON.stringify(given), encoding: 'utf8' })
    t.not(result.status, 0, JSON.stringify(given))
    t.match(result.stderr, named, JSON.stringify(given))
  }
})

t.test('helm accepts the documented values, and every switch on at once', async (t) => {
  const on = { serviceMonitor: { enabled: true, interval: '', scrapeTimeout: '10s' }, prometheusRule: { enabled: true, selector: 'job="x"' }, dashboard: { enabled: true, namespace: 'monitoring' }, networkPolicy: { enabled: false }, tls: { issuer: 'helm' } }
  for (const given of [{}, on]) {
    const result = spawnSync(HELM_BIN, ['template', 'x', CONTROLLER_CHART, '--kube-version', '1.35.0', '--values', '-'], { input: JSON.stringify(given), encoding: 'utf8' })
    t.equal(result.status, 0, result.stderr)
  }
})
