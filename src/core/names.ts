// Names and labels derived from a PrometheusCluster's name. They are stable: a cluster re-created
// with the same name gets objects of the same names, and so the same volume claims.
import type { ChildKind } from './child-types.js'

export interface ClusterNames {
  statefulSet: string
  service: string
  headlessService: string
  configMap: string
  serviceAccount: string
  role: string
  roleBinding: string
  podDisruptionBudget: string
  /** Name of the claim template; claims are `<claimTemplate>-<statefulSet>-<ordinal>`. */
  claimTemplate: string
}

export function clusterNames(name: string): ClusterNames {
  const base = `promcluster-${name}`
  return {
    statefulSet: base,
    service: base,
    headlessService: `${base}-headless`,
    configMap: `${base}-config`,
    serviceAccount: base,
    role: base,
    roleBinding: base,
    podDisruptionBudget: base,
    claimTemplate: 'data'
  }
}

/**
 * Every child the chart can render for a cluster, by kind: the only objects an answer may return
 * for it. A test renders every example and checks the chart stays within this list.
 */
export function childNames(name: string): Record<ChildKind, readonly string[]> {
  const n = clusterNames(name)
  return {
    ServiceAccount: [n.serviceAccount],
    Role: [n.role],
    RoleBinding: [n.roleBinding],
    ConfigMap: [n.configMap],
    Service: [n.service, n.headlessService],
    StatefulSet: [n.statefulSet],
    PodDisruptionBudget: [n.podDisruptionBudget]
  }
}

/** The labels the StatefulSet selects its pods by. Never change them: the selector is immutable. */
export function selectorLabels(name: string): Record<string, string> {
  return { 'app.kubernetes.io/name': 'prometheus-cluster', 'app.kubernetes.io/instance': name }
}

/** Labels of every object and pod: the selector labels and static ones, in the order they render. */
export function commonLabels(name: string): Record<string, string> {
  return { ...selectorLabels(name), 'app.kubernetes.io/component': 'server', 'app.kubernetes.io/managed-by': 'prometheus-cluster-controller' }
}

/** The selector in the string form of the scale subresource (`kubectl get --selector`). */
export function selectorString(name: string): string {
  return Object.entries(selectorLabels(name))
    .map(([k, v]) => `${k}=${v}`)
    .join(',')
}
