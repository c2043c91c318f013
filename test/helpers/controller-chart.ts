// charts/prometheus-cluster-controller rendered with the real helm, and what its monitoring parts
// hold: the PrometheusRule's groups and the Grafana dashboard's queries.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { HELM_BIN, ROOT } from './env.js'

export const CONTROLLER_CHART = join(ROOT, 'charts', 'prometheus-cluster-controller')
export const DASHBOARD_PATH = join(CONTROLLER_CHART, 'dashboards', 'prometheus-cluster-controller.json')
export const NAMESPACE = 'prometheus-cluster-controller'

export type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> } } & Record<string, unknown>

export interface Rule {
  alert: string
  expr: string
  for?: string
  labels: Record<string, string>
  annotations: Record<string, string>
}
export interface RuleGroup {
  name: string
  rules: Rule[]
}

/** `helm template` of the chart in NAMESPACE with these values (a JSON document on stdin). */
export function renderController(values: object = {}): Obj[] {
  const out = execFileSync(HELM_BIN, ['template', 'prometheus-cluster-controller', CONTROLLER_CHART, '--namespace', NAMESPACE, '--kube-version', '1.35.0', '--values', '-'], {
    input: JSON.stringify(values),
    encoding: 'utf8'
  })
  return parseAllDocuments(out)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null)
}

/** The PrometheusRule's spec.groups, rendered with prometheusRule.enabled and `values` over it. */
export function ruleGroups(values: { prometheusRule?: object } & Record<string, unknown> = {}): RuleGroup[] {
  const rule = renderController({ ...values, prometheusRule: { enabled: true, ...values.prometheusRule } }).find((o) => o.kind === 'PrometheusRule') as (Obj & { spec: { groups: RuleGroup[] } }) | undefined
  if (!rule) throw new Error('no PrometheusRule rendered')
  return rule.spec.groups
}

interface Panel {
  type: string
  id: number
  title: string
  targets?: { expr: string; refId: string; datasource?: { uid: string } }[]
  datasource?: { uid: string }
  gridPos: { h: number; w: number; x: number; y: number }
}
export interface Dashboard {
  uid: string
  title: string
  panels: Panel[]
  templating: { list: { name: string; type: string; query: string | { query: string } }[] }
}

export function dashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as Dashboard
}

/** Every PromQL query of the dashboard: its panels' targets and its variables' label_values() queries. */
export function dashboardQueries(d: Dashboard = dashboard()): { where: string; expr: string }[] {
  const panels = d.panels.flatMap((p) => (p.targets ?? []).map((target) => ({ where: `panel "${p.title}" ${target.refId}`, expr: target.expr })))
  const variables = d.templating.list
    .filter((v) => v.type === 'query')
    .map((v) => {
      const query = typeof v.query === 'string' ? v.query : v.query.query
      // label_values(<selector>, <label>): the selector is PromQL.
      return { where: `variable ${v.name}`, expr: /^label_values\((.*),\s*\w+\)$/.exec(query)?.[1] ?? query }
    })
  return [...panels, ...variables]
}

/** A dashboard query made plain PromQL: Grafana's variables replaced by values Prometheus accepts. */
export function withoutGrafanaVariables(expr: string): string {
  return expr.replaceAll('$__rate_interval', '5m').replace(/\$\{?(\w+)\}?/g, '.*')
}
