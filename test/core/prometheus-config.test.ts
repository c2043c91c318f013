import t from 'tap'
import { parse } from 'yaml'
import { Value } from '@sinclair/typebox/value'
import { PrometheusClusterSpec } from '../../src/api/spec.js'
import { mountedSecrets, prometheusFiles, rawConfig, RULES_PATH } from '../../src/core/prometheus-config.js'
import { checkPrometheusFiles } from '../../src/render/promtool.js'
import { PROMTOOL_BIN } from '../helpers/env.js'

const spec = (s: Record<string, unknown>) => Value.Default(PrometheusClusterSpec, s) as PrometheusClusterSpec
const promtool = { promtoolBin: PROMTOOL_BIN, timeoutMs: 5000 }

t.test('spec {} scrapes itself and discovers pods and services of its own namespace only', async (t) => {
  const files = prometheusFiles(spec({}), 'team-a')
  const config = parse(files.config) as { global: Record<string, unknown>; scrape_configs: { job_name: string; kubernetes_sd_configs?: { role: string; namespaces: { names: string[] } }[] }[] }
  t.same(config.global, { scrape_interval: '30s', evaluation_interval: '30s' })
  t.same(
    config.scrape_configs.map((j) => j.job_name),
    ['prometheus', 'kubernetes-pods', 'kubernetes-service-endpoints']
  )
  for (const job of config.scrape_configs.slice(1)) t.same(job.kubernetes_sd_configs?.[0]?.namespaces.names, ['team-a'])
  t.equal(files.rules, '')
  t.notMatch(files.config, /rule_files/)
  await checkPrometheusFiles(files, promtool)
})

t.test('every generated field reaches prometheus.yml and promtool accepts it', async (t) => {
  const files = prometheusFiles(
    spec({
      scrapeInterval: '15s',
      evaluationInterval: '1m',
      externalLabels: { cluster: 'eu-1', team: 'a "quoted" value' },
      remoteWrite: [{ url: 'https://metrics.example.com/api/v1/write', name: 'central', remoteTimeout: '30s', headers: { 'X-Scope-OrgID': 'team-a' } }],
      alerting: { alertmanagers: [{ targets: ['alertmanager.monitoring.svc:9093'], scheme: 'https', pathPrefix: '/am', timeout: '10s' }] },
      rules: { groups: [{ name: 'g', interval: '1m', rules: [{ record: 'job:up:sum', expr: 'sum by (job) (up)' }, { alert: 'Down', expr: 'up == 0', for: '5m', keepFiringFor: '1m', labels: { severity: 'page' }, annotations: { summary: 'down' } }] }] }
    }),
    'ns'
  )
  const config = parse(files.config) as Record<string, unknown>
  t.same((config.global as Record<string, unknown>).external_labels, { cluster: 'eu-1', team: 'a "quoted" value' })
  t.same(config.rule_files, [RULES_PATH])
  t.same(config.remote_write, [{ url: 'https://metrics.example.com/api/v1/write', name: 'central', remote_timeout: '30s', headers: { 'X-Scope-OrgID': 'team-a' } }])
  t.same(config.alerting, { alertmanagers: [{ scheme: 'https', path_prefix: '/am', timeout: '10s', static_configs: [{ targets: ['alertmanager.monitoring.svc:9093'] }] }] })
  const rules = parse(files.rules) as { groups: { rules: Record<string, unknown>[] }[] }
  t.same(rules.groups[0]?.rules[1], { alert: 'Down', expr: 'up == 0', for: '5m', keep_firing_for: '1m', labels: { severity: 'page' }, annotations: { summary: 'down' } })
  await checkPrometheusFiles(files, promtool)
})

t.test('the same spec gives the same bytes', async (t) => {
  const s = spec({ externalLabels: { b: '2', a: '1' }, rules: { groups: [{ name: 'x', rules: [{ record: 'r', expr: 'up' }] }] } })
  t.same(prometheusFiles(s, 'ns'), prometheusFiles(structuredClone(s), 'ns'))
})

t.test('a raw config is kept as written, and gains the rules file only when there are rules', async (t) => {
  const raw = '# mine\nglobal:\n  scrape_interval: 10s\nscrape_configs:\n  - job_name: self\n    static_configs: [{targets: ["localhost:9090"]}]\n'
  t.equal(rawConfig(raw, false), raw)
  const withRules = parse(rawConfig(raw, true)) as Record<string, unknown>
  t.same(withRules.rule_files, [RULES_PATH])
  t.match(rawConfig(raw, true), /# mine/)
  const already = parse(rawConfig(`rule_files: [${RULES_PATH}, other.yaml]\n`, true)) as Record<string, unknown>
  t.same(already.rule_files, [RULES_PATH, 'other.yaml'])
})

t.test('a raw config that is not a YAML mapping is an InvalidConfiguration naming spec.config', async (t) => {
  for (const bad of ['global: [unclosed', '- a list', 'just a string', 'a: 1\na: 2', 'rule_files: not-a-list']) {
    t.throws(() => rawConfig(bad, true), { code: 'InvalidConfiguration', message: /spec\.config/ }, bad)
  }
})

t.test('promtool rejects what Prometheus would reject, and says why', async (t) => {
  const bad = prometheusFiles(spec({ config: 'global:\n  scrape_interval: banana\n' }), 'ns')
  await t.rejects(checkPrometheusFiles(bad, promtool), { code: 'InvalidConfiguration', message: /configuration.*banana/s })
  const badRule = prometheusFiles(spec({ rules: { groups: [{ name: 'g', rules: [{ record: 'r', expr: 'sum(up' }] }] } }), 'ns')
  await t.rejects(checkPrometheusFiles(badRule, promtool), { code: 'InvalidConfiguration', message: /rules/ })
})

t.test('characters YAML would turn into line breaks are refused with the field named', async (t) => {
  const { chartValues } = await import('../../src/core/values.js')
  for (const [s, field] of [
    [{ externalLabels: { team: 'a\u2028b' } }, /spec\.externalLabels\.team contains the character U\+2028/],
    [{ nodeSelector: { 'zone\u0085': 'x' } }, /a key in spec\.nodeSelector contains the character U\+0085/],
    [{ rules: { groups: [{ name: 'g', rules: [{ alert: 'A', expr: 'up', annotations: { d: 'bell\u0007' } }] }] } }, /spec\.rules\.groups\[0\]\.rules\[0\]\.annotations\.d contains the character U\+0007/]
  ] as const) {
    t.throws(() => chartValues('x', 'ns', spec(s)), { code: 'InvalidConfiguration', message: field })
  }
  t.doesNotThrow(() => chartValues('x', 'ns', spec({ externalLabels: { team: 'tabs\tand\nnewlines ünïcødé 🚀' } })))
})

t.test('credentials are referred to by file in the mounted Secrets, never by value', async (t) => {
  const ref = (name: string, key: string) => ({ name, key })
  const s = spec({
    remoteWrite: [{ url: 'https://rw.example.com/push', basicAuth: { username: ref('rw', 'user'), password: ref('rw', 'pass') }, tls: { ca: ref('ca', 'ca.crt'), cert: ref('client', 'tls.crt'), key: ref('client', 'tls.key'), serverName: 'rw' } }],
    alerting: { alertmanagers: [{ targets: ['am:9093'], authorization: { credentials: ref('am', 'token') } }] },
    secrets: ['extra', 'rw']
  })
  const config = parse(prometheusFiles(s, 'ns').config) as { remote_write: Record<string, unknown>[]; alerting: { alertmanagers: Record<string, unknown>[] } }
  t.same(config.remote_write[0], {
    url: 'https://rw.example.com/push',
    basic_auth: { username_file: '/etc/prometheus/secrets/rw/user', password_file: '/etc/prometheus/secrets/rw/pass' },
    tls_config: { ca_file: '/etc/prometheus/secrets/ca/ca.crt', cert_file: '/etc/prometheus/secrets/client/tls.crt', key_file: '/etc/prometheus/secrets/client/tls.key', server_name: 'rw' }
  })
  t.same(config.alerting.alertmanagers[0]?.authorization, { credentials_file: '/etc/prometheus/secrets/am/token' })
  t.same(mountedSecrets(s), ['am', 'ca', 'client', 'extra', 'rw'], 'each Secret mounted once, listed or referred to')
  await checkPrometheusFiles(prometheusFiles(s, 'ns'), promtool)
  t.pass('promtool accepts the generated configuration')
})

t.test('additional scrape jobs are added after the generated ones, checked by promtool', async (t) => {
  const jobs = '- job_name: extra\n  static_configs:\n    - targets: ["10.0.0.1:9100"]\n'
  const config = parse(prometheusFiles(spec({ additionalScrapeConfigs: jobs }), 'ns').config) as { scrape_configs: { job_name: string }[] }
  t.same(config.scrape_configs.map((j) => j.job_name), ['prometheus', 'kubernetes-pods', 'kubernetes-service-endpoints', 'extra'])
  for (const [bad, message] of [
    ['job_name: not-a-list', /must be a YAML list/],
    ['- just a string', /must be a YAML list/],
    ['- [unclosed', /not valid YAML/],
    [`- &a {x: [*a]}\n${'- *a\n'.repeat(200)}`, /anchors and aliases/]
  ] as const) {
    t.throws(() => prometheusFiles(spec({ additionalScrapeConfigs: bad }), 'ns'), { code: 'InvalidConfiguration', message }, bad.slice(0, 20))
  }
  const duplicate = prometheusFiles(spec({ additionalScrapeConfigs: '- job_name: prometheus\n  static_configs: [{targets: ["x:1"]}]\n' }), 'ns')
  await t.rejects(checkPrometheusFiles(duplicate, promtool), { code: 'InvalidConfiguration', message: /prometheus/ }, 'a job name the generated configuration uses')
})
