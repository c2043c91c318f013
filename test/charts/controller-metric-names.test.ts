// Every metric the controller chart's alerts and dashboard read is one the hook exports: the hook
// is started in-process with its TLS metrics registered as server.ts registers them, and the names
// are read from its GET /metrics (a histogram exposes name_bucket, name_sum and name_count).
import t from 'tap'
import { buildApp, createServices } from '../../src/app.js'
import { DEGRADED_REASONS } from '../../src/core/status.js'
import { tlsMetrics } from '../../src/tls.js'
import { dashboardQueries, ruleGroups } from '../helpers/controller-chart.js'
import { FIXED_NOW, testConfig } from '../helpers/env.js'
import { bareIdentifiers, metricNames } from '../helpers/promql.js'

/** Series Prometheus makes itself for every target, not the hook. */
const PROMETHEUS_OWN = new Set(['up'])

async function exportedNames(): Promise<Set<string>> {
  const config = testConfig()
  const services = await createServices(config)
  tlsMetrics(services.metrics.registry)
  const app = await buildApp({ config, services, logger: false, now: () => FIXED_NOW })
  try {
    const text = (await app.inject({ url: '/metrics' })).body
    const names = new Set<string>()
    for (const [, name = '', type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      const suffixes = type === 'histogram' ? ['_bucket', '_sum', '_count'] : type === 'summary' ? ['', '_sum', '_count'] : ['']
      for (const suffix of suffixes) names.add(`${name}${suffix}`)
    }
    return names
  } finally {
    await app.close()
  }
}

const exported = await exportedNames()
const rules = ruleGroups().flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })))
const queries = dashboardQueries()

t.test('the hook exports what the tests below compare against', async (t) => {
  for (const name of ['pcc_hook_requests_total', 'pcc_sync_answers_total', 'pcc_render_duration_seconds_bucket', 'pcc_tls_client_certificate_expiry_timestamp_seconds', 'process_cpu_seconds_total', 'nodejs_eventloop_lag_p99_seconds']) {
    t.ok(exported.has(name), name)
  }
  t.notOk(exported.has('pcc_render_duration_seconds'), 'a histogram is not a series of its own name')
})

for (const [what, list] of [['alerts', rules], ['dashboard', queries]] as const) {
  t.test(`every metric the ${what} read is exported by the hook`, async (t) => {
    t.ok(list.length > 0)
    for (const { where, expr } of list) {
      const names = metricNames(expr)
      t.ok(names.length > 0, `${where}: reads a metric`)
      for (const name of names) t.ok(exported.has(name) || PROMETHEUS_OWN.has(name), `${where}: ${name}`)
      t.same(bareIdentifiers(expr), [], `${where}: every metric written name{...}, so none escapes this check`)
    }
  })
}

t.test('every Degraded reason the alerts and the dashboard name is one the hook counts', async (t) => {
  const named = [...rules, ...queries].flatMap(({ expr }) => [...expr.matchAll(/reason(?:!=|=~|!~|=)"([^"]*)"/g)].flatMap((m) => (m[1] ?? '').split('|')))
  t.ok(named.includes('InvalidSpec') && named.includes('AsExpected'), 'the reasons are read')
  for (const reason of new Set(named)) t.ok((DEGRADED_REASONS as readonly string[]).includes(reason), reason)
})

t.test('the check finds names it must refuse', async (t) => {
  t.same(metricNames('sum(rate(pcc_render_duration_seconds{job="x"}[5m])) / pcc_typo_total{a=""}'), ['pcc_render_duration_seconds', 'pcc_typo_total'])
  t.notOk(exported.has('pcc_render_duration_seconds') || exported.has('pcc_typo_total'))
  t.same(bareIdentifiers('sum by (le) (rate(pcc_hook_requests_total[5m])) > bool 0'), ['pcc_hook_requests_total'], 'a metric without braces is reported')
  t.same(bareIdentifiers('histogram_quantile(0.99, sum by (le, hook) (rate(x{a="b c"}[$__rate_interval]))) and on () time() > 1'), [])
})
