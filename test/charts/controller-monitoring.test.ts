// The controller chart's monitoring of the hook, rendered with the real helm: a ServiceMonitor and
// the Service it scrapes, a PrometheusRule whose rules the real promtool checks and unit-tests
// (test/charts/controller-alerts.promtool.yaml), all off by default.
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { stringify } from 'yaml'
import { NAMESPACE, renderController, ruleGroups, type Obj, type RuleGroup } from '../helpers/controller-chart.js'
import { PROMTOOL_BIN, ROOT } from '../helpers/env.js'

const PROMTOOL_TESTS = join(ROOT, 'test', 'charts', 'controller-alerts.promtool.yaml')
const MONITORING_KINDS = ['ServiceMonitor', 'PrometheusRule']
const ALERTS = [
  'PrometheusClusterControllerDown',
  'PrometheusClusterControllerHookErrors',
  'PrometheusClusterControllerOverloaded',
  'PrometheusClusterControllerRenderSlow',
  'PrometheusClusterRenderFailing',
  'PrometheusClusterSpecRejected',
  'PrometheusClusterControllerClientCertificateExpiring',
  'PrometheusClusterControllerServingCertificateExpiring'
]

type Service = Obj & { spec: { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string }[] } }
type ServiceMonitor = Obj & {
  spec: { selector: { matchLabels: Record<string, string> }; namespaceSelector: { matchNames: string[] }; endpoints: Record<string, unknown>[] }
}
type Deployment = Obj & { spec: { template: { metadata: { labels: Record<string, string> }; spec: { containers: { ports: { name: string; containerPort: number }[]; env: { name: string; value: string }[] }[] } } } }

/** promtool on rule groups written to a file beside `extra` files; the exit status and output. */
function promtool(groups: RuleGroup[], args: (rules: string, dir: string) => string[], extra: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'pcc-rules-'))
  try {
    writeFileSync(join(dir, 'rules.yaml'), stringify({ groups }))
    for (const file of extra) copyFileSync(file, join(dir, file.split('/').pop() ?? ''))
    const result = spawnSync(PROMTOOL_BIN, args(join(dir, 'rules.yaml'), dir), { encoding: 'utf8' })
    return { status: result.status, output: `${result.stdout}${result.stderr}` }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
const checkRules = (groups: RuleGroup[]) => promtool(groups, (rules) => ['check', 'rules', rules])
const testRules = (groups: RuleGroup[]) => promtool(groups, (_rules, dir) => ['test', 'rules', join(dir, 'controller-alerts.promtool.yaml')], [PROMTOOL_TESTS])

t.test('by default nothing of the monitoring renders (the CRDs may not be installed)', async (t) => {
  const objects = renderController()
  t.same(objects.filter((o) => MONITORING_KINDS.includes(o.kind)), [])
  t.notOk(objects.some((o) => o.metadata.name === 'prometheus-cluster-controller-metrics'), 'no metrics Service')
  t.notOk(objects.some((o) => o.kind === 'ConfigMap'), 'no dashboard ConfigMap')
})

t.test('the ServiceMonitor scrapes /metrics on the hook pods\' ops port, through a Service of its own', async (t) => {
  const objects = renderController({ serviceMonitor: { enabled: true, labels: { release: 'kube-prometheus-stack' }, interval: '15s', scrapeTimeout: '5s', relabelings: [{ action: 'labeldrop', regex: 'endpoint' }] } })
  const monitor = objects.find((o) => o.kind === 'ServiceMonitor') as ServiceMonitor | undefined
  if (!monitor) throw new Error('no ServiceMonitor rendered')
  const services = objects.filter((o): o is Service => o.kind === 'Service')
  const deployment = objects.find((o) => o.kind === 'Deployment') as Deployment
  const container = deployment.spec.template.spec.containers[0]
  t.ok(container)
  t.equal(monitor.apiVersion, 'monitoring.coreos.com/v1')
  t.equal(monitor.metadata.labels?.release, 'kube-prometheus-stack', 'its labels from serviceMonitor.labels')
  t.same(monitor.spec.namespaceSelector.matchNames, [NAMESPACE])
  const selected = services.filter((s) => Object.entries(monitor.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels?.[k] === v))
  t.same(selected.map((s) => s.metadata.name), ['prometheus-cluster-controller-metrics'], 'it selects the metrics Service only, not the hooks\' one')
  const service = selected[0] as Service
  const podLabels = deployment.spec.template.metadata.labels
  t.ok(Object.keys(service.spec.selector).length > 0 && Object.entries(service.spec.selector).every(([k, v]) => podLabels[k] === v), 'the Service selects the hook pods')
  t.same(monitor.spec.endpoints, [{ port: 'metrics', path: '/metrics', scheme: 'http', interval: '15s', scrapeTimeout: '5s', relabelings: [{ action: 'labeldrop', regex: 'endpoint' }] }])
  const port = service.spec.ports.find((p) => p.name === monitor.spec.endpoints[0]?.port)
  const opsPort = container?.ports.find((p) => p.name === port?.targetPort)
  t.equal(opsPort?.name, 'ops', 'the endpoint reaches the container\'s ops port')
  t.equal(String(opsPort?.containerPort), container?.env.find((e) => e.name === 'OPS_PORT')?.value, 'where the hook serves /metrics (OPS_PORT)')
})

t.test('the PrometheusRule holds every alert, its object labels and the rule labels from values', async (t) => {
  const objects = renderController({ prometheusRule: { enabled: true, labels: { release: 'kube-prometheus-stack' }, ruleLabels: { team: 'platform' } } })
  const rule = objects.find((o) => o.kind === 'PrometheusRule') as Obj & { spec: { groups: RuleGroup[] } }
  t.equal(rule.apiVersion, 'monitoring.coreos.com/v1')
  t.equal(rule.metadata.namespace, NAMESPACE)
  t.equal(rule.metadata.labels?.release, 'kube-prometheus-stack')
  const rules = rule.spec.groups.flatMap((g) => g.rules)
  t.same(rules.map((r) => r.alert), ALERTS)
  for (const r of rules) {
    t.equal(r.labels.team, 'platform', `${r.alert}: ruleLabels`)
    t.match(r.labels.severity, /^(critical|warning|info)$/, `${r.alert}: severity`)
    t.ok(r.annotations.summary && r.annotations.description, `${r.alert}: summary and description`)
  }
})

t.test('promtool check rules accepts the rules, with the defaults and with every threshold changed', async (t) => {
  const defaults = checkRules(ruleGroups())
  t.equal(defaults.status, 0, defaults.output)
  t.match(defaults.output, `SUCCESS: ${ALERTS.length} rules found`)
  const changed = checkRules(
    ruleGroups({
      prometheusRule: {
        selector: 'job="hook",cluster="a"',
        alerts: { down: { for: '1m' }, hookErrors: { ratio: 0.5, for: '1h' }, overload: { ratio: 0.25, for: '2m' }, renderLatency: { p99Seconds: 1.5, for: '30m' }, renderFailing: { for: '0' }, specRejected: { for: '1d' }, certificateExpiry: { days: 14 } }
      }
    })
  )
  t.equal(changed.status, 0, changed.output)
})

t.test('promtool test rules: each alert fires on trouble and stays quiet when healthy', async (t) => {
  const result = testRules(ruleGroups())
  t.equal(result.status, 0, result.output)
  t.match(result.output, 'SUCCESS')
})

t.test('the promtool tests can fail: a threshold above the synthetic trouble leaves an expected alert unfired', async (t) => {
  const result = testRules(ruleGroups({ prometheusRule: { alerts: { hookErrors: { ratio: 0.2 } } } }))
  t.not(result.status, 0)
  t.match(result.output, /name: hook errors at 10% of sync calls/)
})

t.test('the values reach the expressions: thresholds, durations, the selector and the Degraded window', async (t) => {
  const byName = (groups: RuleGroup[]) => Object.fromEntries(groups.flatMap((g) => g.rules).map((r) => [r.alert, r]))
  const defaults = byName(ruleGroups())
  t.match(defaults.PrometheusClusterControllerDown?.expr, `up{job="prometheus-cluster-controller-metrics",namespace="${NAMESPACE}"}`, 'the default selector: what the ServiceMonitor gives')
  t.match(defaults.PrometheusClusterRenderFailing?.expr, '[300s]', 'three resync periods of 60 s, at least 5 minutes')
  const rules = byName(
    ruleGroups({
      compositeController: { resyncPeriodSeconds: 600 },
      prometheusRule: { selector: 'job="hook"', alerts: { hookErrors: { ratio: 0.25, for: '7m' }, overload: { ratio: 0.5 }, renderLatency: { p99Seconds: 2 }, certificateExpiry: { days: 3 } } }
    })
  )
  for (const r of Object.values(rules)) t.notMatch(r.expr, 'namespace=', `${r.alert}: the selector replaces the default`)
  t.match(rules.PrometheusClusterControllerHookErrors, { expr: /> 0\.25$/, for: '7m' })
  t.match(rules.PrometheusClusterControllerHookErrors?.expr, 'pcc_hook_requests_total{job="hook",code=~"5.."}')
  t.match(rules.PrometheusClusterControllerOverloaded?.expr, /> 0\.5$/)
  t.match(rules.PrometheusClusterControllerRenderSlow?.expr, /> 2$/)
  t.match(rules.PrometheusClusterControllerClientCertificateExpiring?.expr, /< 3 \* 86400$/)
  t.match(rules.PrometheusClusterRenderFailing?.expr, '[1800s]', 'a longer resync period widens the window')
  t.match(rules.PrometheusClusterSpecRejected?.expr, '[1800s]')
})
