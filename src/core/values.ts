// spec -> values of the bundled chart (their schema: src/api/chart-values.ts). Pure: the values are
// the whole input of a render, so their digest is the render cache key.
import type { ChartValues } from '../api/chart-values.js'
import { DEFAULT_IMAGE_REPOSITORY, type PrometheusClusterSpec, type Resources } from '../api/spec.js'
import { clusterNames, commonLabels, selectorLabels } from './names.js'
import { assertPlainText } from './plain-text.js'
import { SECRETS_DIR } from '../api/credentials.js'
import { CONFIG_DIR, CONFIG_FILE, DATA_DIR, mountedSecrets, prometheusFiles, RULES_FILE } from './prometheus-config.js'

export const DEFAULT_RESOURCES = {
  requests: { cpu: '100m', memory: '512Mi' },
  limits: { memory: '2Gi' }
} as const satisfies Resources

/** Resources as chart values: null removes one of the chart's default entries. */
export type ResourcesValue = ChartValues['resources']
type Quantities = NonNullable<ResourcesValue['requests']>

/**
 * Helm merges values into the chart's defaults key by key, so a spec giving only `limits.cpu`
 * would keep the default requests and memory limit. The spec's resources replace the defaults:
 * every default entry the spec does not give is sent as null, which helm removes.
 */
export function resourcesValue(resources: Resources | undefined): ResourcesValue {
  if (!resources) return { requests: { ...DEFAULT_RESOURCES.requests }, limits: { ...DEFAULT_RESOURCES.limits } }
  const section = (given: Quantities | undefined, defaults: Record<string, string>): Quantities | null =>
    given ? { ...Object.fromEntries(Object.keys(defaults).map((k) => [k, null])), ...given } : null
  return { requests: section(resources.requests, DEFAULT_RESOURCES.requests), limits: section(resources.limits, DEFAULT_RESOURCES.limits) }
}

/** Labels as the chart takes them: a list, in the order they render. */
function labelList(labels: Record<string, string>): ChartValues['labels']['common'] {
  return Object.entries(labels).map(([name, value]) => ({ name, value }))
}

/** The pod anti-affinity of a cluster that sets none: its servers prefer nodes that run none of them. */
export function defaultPodAntiAffinity(name: string): Record<string, unknown> {
  return {
    preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { labelSelector: { matchLabels: selectorLabels(name) }, topologyKey: 'kubernetes.io/hostname' } }]
  }
}

/** Annotations every Prometheus pod carries: kubectl exec and logs pick the prometheus container. */
const POD_ANNOTATIONS = { 'kubectl.kubernetes.io/default-container': 'prometheus' }

export function imageOf(spec: PrometheusClusterSpec): string {
  return spec.image ?? `${DEFAULT_IMAGE_REPOSITORY}:${spec.version}`
}

/**
 * The chart values for a cluster. `spec` must already carry its defaults (see withDefaults).
 * Throws HookError('InvalidConfiguration') when a string cannot pass through YAML unchanged or a
 * raw spec.config cannot be parsed.
 */
export function chartValues(name: string, namespace: string, spec: PrometheusClusterSpec): ChartValues {
  assertPlainText(spec, 'spec')
  const files = prometheusFiles(spec, namespace)
  return {
    names: clusterNames(name),
    // The controller's labels win over the spec's (the CRD refuses those keys in podMetadata anyway).
    labels: { selector: labelList(selectorLabels(name)), common: labelList(commonLabels(name)), pod: labelList({ ...spec.podMetadata?.labels, ...commonLabels(name) }) },
    paths: { configDir: CONFIG_DIR, configFile: CONFIG_FILE, rulesFile: RULES_FILE, data: DATA_DIR },
    replicas: spec.replicas,
    image: imageOf(spec),
    imagePullPolicy: 'IfNotPresent',
    retention: spec.retention,
    retentionSize: spec.retentionSize ?? '',
    storage: {
      size: String(spec.storage.size),
      storageClassName: spec.storage.storageClassName ?? '',
      persistentVolumeClaimRetentionPolicy: {
        whenDeleted: spec.storage.persistentVolumeClaimRetentionPolicy.whenDeleted,
        whenScaled: spec.storage.persistentVolumeClaimRetentionPolicy.whenScaled
      }
    },
    resources: resourcesValue(spec.resources),
    secretVolumes: mountedSecrets(spec).map((secretName, i) => ({ volume: `secret-${String(i)}`, secretName, mountPath: `${SECRETS_DIR}/${secretName}` })),
    podAnnotations: { ...POD_ANNOTATIONS, ...spec.podMetadata?.annotations },
    externalUrl: spec.externalUrl ?? '',
    priorityClassName: spec.priorityClassName ?? '',
    imagePullSecrets: spec.imagePullSecrets ?? [],
    topologySpreadConstraints: (spec.topologySpreadConstraints ?? []).map((c) => ({ ...c, labelSelector: { matchLabels: selectorLabels(name) } })),
    nodeSelector: spec.nodeSelector ?? {},
    tolerations: spec.tolerations ?? [],
    affinity: { ...spec.affinity, podAntiAffinity: spec.affinity?.podAntiAffinity ?? defaultPodAntiAffinity(name) },
    config: files.config,
    rules: files.rules
  }
}
