// spec -> values of the bundled chart (charts/prometheus-cluster/values.yaml documents each one).
// Pure: the values are the whole input of a render, so their digest is the render cache key.
import { DEFAULT_IMAGE_REPOSITORY, type Affinity, type PrometheusClusterSpec, type Resources, type Toleration } from '../api/spec.js'
import { assertPlainText } from './plain-text.js'
import { prometheusFiles } from './prometheus-config.js'

export const DEFAULT_RESOURCES = {
  requests: { cpu: '100m', memory: '512Mi' },
  limits: { memory: '2Gi' }
} as const satisfies Resources

type Quantities = Record<string, string | number | null>
/** Resources as chart values: null removes one of the chart's default entries. */
export type ResourcesValue = { requests: Quantities | null; limits: Quantities | null }

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

export interface ChartValues {
  cluster: { name: string }
  replicas: number
  image: string
  imagePullPolicy: 'IfNotPresent'
  retention: string
  retentionSize: string
  storage: {
    size: string
    storageClassName: string
    persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain' | 'Delete'; whenScaled: 'Retain' | 'Delete' }
  }
  resources: ResourcesValue
  nodeSelector: Record<string, string>
  tolerations: Toleration[]
  affinity: Affinity
  config: string
  rules: string
}

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
    cluster: { name },
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
    nodeSelector: spec.nodeSelector ?? {},
    tolerations: spec.tolerations ?? [],
    affinity: spec.affinity ?? {},
    config: files.config,
    rules: files.rules
  }
}
