// The Grafana dashboard of the hook (charts/prometheus-cluster-controller/dashboards/): its panels,
// its queries (each one parsed by the real promtool), and the ConfigMap the chart renders it into.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { stringify } from 'yaml'
import { DASHBOARD_PATH, NAMESPACE, dashboard, dashboardQueries, renderController, withoutGrafanaVariables, type Obj } from '../helpers/controller-chart.js'
import { PROMTOOL_BIN } from '../helpers/env.js'

/** The panels the issue asks for, by title; each must exist and query what its title says. */
const REQUIRED_PANELS: Record<string, RegExp> = {
  'Requests by hook and code': /pcc_hook_requests_total\{/,
  'Request latency': /pcc_hook_request_duration_seconds_bucket\{/,
  '429s (overloaded)': /code="429"/,
  'Degraded sync answers': /pcc_sync_answers_total\{.*reason!="AsExpected"/,
  'Render duration': /pcc_render_duration_seconds_bucket\{/,
  'Render cache hit ratio': /pcc_render_cache_lookups_total\{/,
  'Subprocesses running': /pcc_subprocesses_running\{/,
  'Subprocesses started': /pcc_subprocesses_started_total\{/,
  Memory: /process_resident_memory_bytes\{/,
  CPU: /process_cpu_seconds_total\{/,
  'Event loop lag': /nodejs_eventloop_lag_p99_seconds\{/
}

t.test('the dashboard has a stable uid, a data source variable, and the panels asked for', async (t) => {
  const d = dashboard()
  t.equal(d.uid, 'prometheus-cluster-controller')
  t.ok(d.templating.list.some((v) => v.name === 'datasource' && v.type === 'datasource' && v.query === 'prometheus'), 'the Prometheus data source is chosen, not hard-coded')
  for (const [title, query] of Object.entries(REQUIRED_PANELS)) {
    const panel = d.panels.find((p) => p.title === title)
    t.ok(panel, title)
    t.ok(panel?.targets?.some((target) => query.test(target.expr)), `${title}: queries ${query}`)
  }
})

t.test('every panel has a unique id, queries through the data source variable, and does not overlap another', async (t) => {
  const d = dashboard()
  t.equal(new Set(d.panels.map((p) => p.id)).size, d.panels.length, 'unique ids')
  const cells = new Map<string, string>()
  for (const p of d.panels) {
    if (p.type !== 'row') {
      t.ok((p.targets ?? []).length > 0, `${p.title}: has queries`)
      t.equal(p.datasource?.uid, '${datasource}', `${p.title}: data source`)
      for (const target of p.targets ?? []) t.equal(target.datasource?.uid, '${datasource}', `${p.title} ${target.refId}: data source`)
    }
    t.ok(p.gridPos.x >= 0 && p.gridPos.x + p.gridPos.w <= 24, `${p.title}: within the 24 columns`)
    for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
      for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
        const other = cells.get(`${x},${y}`)
        if (other) t.fail(`${p.title} overlaps ${other} at ${x},${y}`)
        cells.set(`${x},${y}`, p.title)
      }
    }
  }
})

t.test('every query of the dashboard is PromQL the real promtool parses', async (t) => {
  const queries = dashboardQueries()
  t.ok(queries.length > 20, `${queries.length} queries`)
  const dir = mkdtempSync(join(tmpdir(), 'pcc-dashboard-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'queries.yaml')
  // Each query as a recording rule: promtool check rules parses every expression.
  writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules: queries.map((q, i) => ({ record: `dashboard:query_${i}`, expr: withoutGrafanaVariables(q.expr) })) }] }))
  const result = spawnSync(PROMTOOL_BIN, ['check', 'rules', file], { encoding: 'utf8' })
  t.equal(result.status, 0, `${result.stdout}${result.stderr}`)
  // The same check refuses a broken query, so the one above can fail.
  writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules: [{ record: 'dashboard:broken', expr: withoutGrafanaVariables('sum by (hook) (rate(pcc_hook_requests_total{namespace=~"$namespace"}[$__rate_interval])') }] }] }))
  t.not(spawnSync(PROMTOOL_BIN, ['check', 'rules', file], { encoding: 'utf8' }).status, 0)
})

t.test('dashboard.enabled renders the JSON, byte for byte, into a ConfigMap the Grafana sidecar finds', async (t) => {
  const json = readFileSync(DASHBOARD_PATH, 'utf8')
  type ConfigMap = Obj & { data: Record<string, string> }
  const find = (objects: Obj[]) => objects.find((o): o is ConfigMap => o.kind === 'ConfigMap' && o.metadata.name === 'prometheus-cluster-controller-dashboard')
  const defaults = find(renderController({ dashboard: { enabled: true } }))
  t.equal(defaults?.metadata.namespace, NAMESPACE)
  t.equal(defaults?.metadata.labels?.grafana_dashboard, '1', 'the sidecar\'s default label')
  t.equal(defaults?.data['prometheus-cluster-controller.json'], json.trimEnd())
  const moved = find(renderController({ dashboard: { enabled: true, namespace: 'monitoring', labels: { grafana_dashboard: 'yes' }, annotations: { grafana_folder: 'Platform' } } }))
  t.equal(moved?.metadata.namespace, 'monitoring')
  t.equal(moved?.metadata.labels?.grafana_dashboard, 'yes')
  t.same(moved?.metadata.annotations, { grafana_folder: 'Platform' })
  t.equal(find(renderController()), undefined, 'off by default')
})
