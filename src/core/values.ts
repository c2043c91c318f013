// spec -> values of the bundled chart (charts/prometheus-cluster/values.yaml documents each one).
// Pure: the values are the whole input of a render, so their digest is the render cache key.
import { DEFAULT_IMAGE_REPOSITORY, type Affinity, type PrometheusClusterSpec, type Resources, type Toleration } from '../api/spec.js'
import { prometheusFiles } from './prometheus-config.js'

export const DEFAULT_RESOURCES = {
  requests: { cpu: '100m', memory: '512Mi' },
  limits: { memory: '2Gi' }
} as const satisfies Resources

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
  resources: Resources
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
 * Throws HookError('InvalidConfiguration') when a raw spec.config cannot be parsed.
 */
export function chartValues(name: string, namespace: string, spec: PrometheusClusterSpec): ChartValues {
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
    resources: spec.resources ?? structuredClone(DEFAULT_RESOURCES),
    nodeSelector: spec.nodeSelector ?? {},
    tolerations: spec.tolerations ?? [],
    affinity: spec.affinity ?? {},
    config: files.config,
    rules: files.rules
  }
}
