// spec -> the prometheus.yml and rules file the servers load. Pure: the same spec always gives the
// same text, byte for byte.
import { isMap, isSeq, parseDocument, stringify, visit } from 'yaml'
import { SECRETS_DIR, type SecretKeySelector } from '../api/credentials.js'
import type { Alertmanager, PrometheusClusterSpec, RemoteWrite, Rule, RuleGroup } from '../api/spec.js'
import { HookError } from './errors.js'

/** Where the chart mounts the ConfigMap in the Prometheus container. */
export const CONFIG_DIR = '/etc/prometheus/config'
export const CONFIG_FILE = 'prometheus.yml'
export const RULES_FILE = 'rules.yaml'
export const RULES_PATH = `${CONFIG_DIR}/${RULES_FILE}`
/** Where each server keeps its TSDB: the mount point of its data volume. */
export const DATA_DIR = '/prometheus'

export const DEFAULT_SCRAPE_INTERVAL = '30s'
export const DEFAULT_EVALUATION_INTERVAL = '30s'

export interface PrometheusFiles {
  /** prometheus.yml */
  config: string
  /** The rules file, or '' when the spec has no rules. */
  rules: string
}

const YAML_OPTIONS = { lineWidth: 0, aliasDuplicateObjects: false } as const

function compact<T extends Record<string, unknown>>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as Partial<T>
}

/** Scrape jobs that follow the prometheus.io/scrape, path, port and scheme annotations. */
function annotatedJob(jobName: string, role: 'pod' | 'endpointslice', namespace: string, meta: string) {
  const annotation = (name: string) => `__meta_kubernetes_${meta}_annotation_prometheus_io_${name}`
  return {
    job_name: jobName,
    kubernetes_sd_configs: [{ role, namespaces: { names: [namespace] } }],
    relabel_configs: [
      { source_labels: [annotation('scrape')], action: 'keep', regex: 'true' },
      { source_labels: [annotation('scheme')], action: 'replace', regex: '(https?)', target_label: '__scheme__' },
      { source_labels: [annotation('path')], action: 'replace', regex: '(.+)', target_label: '__metrics_path__' },
      {
        source_labels: ['__address__', annotation('port')],
        action: 'replace',
        regex: '([^:]+)(?::\\d+)?;(\\d+)',
        replacement: '$1:$2',
        target_label: '__address__'
      },
      { action: 'labelmap', regex: `__meta_kubernetes_${meta}_label_(.+)` },
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
      ...(role === 'endpointslice' ? [{ source_labels: ['__meta_kubernetes_service_name'], target_label: 'service' }] : []),
      { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' }
    ]
  }
}

/** The file a Secret's key is mounted at in the Prometheus container. */
export function secretFile(ref: SecretKeySelector): string {
  return `${SECRETS_DIR}/${ref.name}/${ref.key}`
}

/** The Secrets the pods mount: those the spec lists and those its credentials refer to, sorted. */
export function mountedSecrets(spec: PrometheusClusterSpec): string[] {
  const clients = [...(spec.remoteWrite ?? []), ...(spec.alerting?.alertmanagers ?? [])]
  const refs = clients.flatMap((c) => [c.basicAuth?.username, c.basicAuth?.password, c.authorization?.credentials, c.tls?.ca, c.tls?.cert, c.tls?.key])
  return [...new Set([...(spec.secrets ?? []), ...refs.flatMap((r) => (r ? [r.name] : []))])].sort()
}

/** An HTTP client's credentials as Prometheus reads them: every secret by file. */
function clientAuth(client: Pick<RemoteWrite, 'basicAuth' | 'authorization' | 'tls'>) {
  const { basicAuth, authorization, tls } = client
  return compact({
    basic_auth: basicAuth && { username_file: secretFile(basicAuth.username), password_file: secretFile(basicAuth.password) },
    authorization: authorization && compact({ type: authorization.type, credentials_file: secretFile(authorization.credentials) }),
    tls_config:
      tls &&
      compact({
        ca_file: tls.ca && secretFile(tls.ca),
        cert_file: tls.cert && secretFile(tls.cert),
        key_file: tls.key && secretFile(tls.key),
        server_name: tls.serverName,
        insecure_skip_verify: tls.insecureSkipVerify
      })
  })
}

function alertmanagerConfig(am: Alertmanager) {
  return compact({
    scheme: am.scheme,
    path_prefix: am.pathPrefix,
    timeout: am.timeout,
    ...clientAuth(am),
    static_configs: [{ targets: am.targets }]
  })
}

function remoteWriteConfig(rw: RemoteWrite) {
  return compact({ url: rw.url, name: rw.name, remote_timeout: rw.remoteTimeout, headers: rw.headers, ...clientAuth(rw) })
}

/** The spec's additional scrape jobs: a YAML list of scrape configs, each a mapping. */
function additionalScrapeConfigs(text: string | undefined): unknown[] {
  if (text === undefined) return []
  const doc = parseDocument(text, { uniqueKeys: true })
  const [firstError] = doc.errors
  if (firstError) throw new HookError('InvalidConfiguration', `spec.additionalScrapeConfigs is not valid YAML: ${firstError.message}`)
  // The jobs are copied into the generated file: aliases would be expanded, or loop.
  const aliases: unknown[] = []
  visit(doc, {
    Alias: (_key, node) => {
      aliases.push(node)
      return visit.BREAK
    }
  })
  if (aliases.length > 0) throw new HookError('InvalidConfiguration', 'spec.additionalScrapeConfigs cannot use YAML anchors and aliases; write each job out')
  const jobs: unknown = doc.toJS()
  if (!Array.isArray(jobs) || !jobs.every((job) => typeof job === 'object' && job !== null && !Array.isArray(job))) {
    throw new HookError('InvalidConfiguration', 'spec.additionalScrapeConfigs must be a YAML list of scrape configs (mappings)')
  }
  return jobs
}

/** The prometheus.yml generated when the spec carries no raw config. */
export function generatedConfig(spec: PrometheusClusterSpec, namespace: string, hasRules: boolean): string {
  const config = compact({
    global: compact({
      scrape_interval: spec.scrapeInterval ?? DEFAULT_SCRAPE_INTERVAL,
      evaluation_interval: spec.evaluationInterval ?? DEFAULT_EVALUATION_INTERVAL,
      external_labels: spec.externalLabels && Object.keys(spec.externalLabels).length > 0 ? spec.externalLabels : undefined
    }),
    rule_files: hasRules ? [RULES_PATH] : undefined,
    alerting: spec.alerting && spec.alerting.alertmanagers.length > 0 ? { alertmanagers: spec.alerting.alertmanagers.map(alertmanagerConfig) } : undefined,
    remote_write: spec.remoteWrite && spec.remoteWrite.length > 0 ? spec.remoteWrite.map(remoteWriteConfig) : undefined,
    scrape_configs: [
      { job_name: 'prometheus', static_configs: [{ targets: ['localhost:9090'] }] },
      annotatedJob('kubernetes-pods', 'pod', namespace, 'pod'),
      annotatedJob('kubernetes-service-endpoints', 'endpointslice', namespace, 'service'),
      ...additionalScrapeConfigs(spec.additionalScrapeConfigs)
    ]
  })
  return stringify(config, YAML_OPTIONS)
}

/** The user's raw prometheus.yml, with the rules file added to rule_files when there are rules. */
export function rawConfig(text: string, hasRules: boolean): string {
  const doc = parseDocument(text, { uniqueKeys: true })
  const [firstError] = doc.errors
  if (firstError) {
    throw new HookError('InvalidConfiguration', `spec.config is not valid YAML: ${firstError.message}`)
  }
  if (!isMap(doc.contents)) {
    throw new HookError('InvalidConfiguration', 'spec.config must be a YAML mapping (a prometheus.yml)')
  }
  if (!hasRules) return text
  const ruleFiles = doc.get('rule_files')
  if (ruleFiles === undefined || ruleFiles === null) {
    doc.set('rule_files', [RULES_PATH])
  } else if (isSeq(ruleFiles)) {
    if (!ruleFiles.items.some((item) => String((item as { value?: unknown }).value ?? item) === RULES_PATH)) ruleFiles.add(RULES_PATH)
  } else {
    throw new HookError('InvalidConfiguration', 'spec.config: rule_files must be a list')
  }
  return doc.toString(YAML_OPTIONS)
}

function ruleConfig(rule: Rule) {
  return compact({
    record: rule.record,
    alert: rule.alert,
    expr: rule.expr,
    for: rule.for,
    keep_firing_for: rule.keepFiringFor,
    labels: rule.labels,
    annotations: rule.annotations
  })
}

function groupConfig(group: RuleGroup) {
  return compact({
    name: group.name,
    interval: group.interval,
    limit: group.limit,
    query_offset: group.queryOffset,
    rules: group.rules.map(ruleConfig)
  })
}

/** The rules file in Prometheus' format, or '' when there are no rule groups. */
export function rulesFile(spec: PrometheusClusterSpec): string {
  const groups = spec.rules?.groups ?? []
  return groups.length === 0 ? '' : stringify({ groups: groups.map(groupConfig) }, YAML_OPTIONS)
}

export function prometheusFiles(spec: PrometheusClusterSpec, namespace: string): PrometheusFiles {
  const rules = rulesFile(spec)
  const hasRules = rules !== ''
  const config = spec.config === undefined ? generatedConfig(spec, namespace, hasRules) : rawConfig(spec.config, hasRules)
  return { config, rules }
}
