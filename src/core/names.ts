// Names and labels derived from a PrometheusCluster's name. They are stable: a cluster re-created
// with the same name gets objects of the same names, and so the same volume claims.

export const MANAGED_BY = 'prometheus-cluster-controller'

export interface ClusterNames {
  statefulSet: string
  service: string
  headlessService: string
  configMap: string
  serviceAccount: string
  /** Name of the claim template; claims are `<claimTemplate>-<statefulSet>-<ordinal>`. */
  claimTemplate: string
}

export function clusterNames(name: string): ClusterNames {
  const base = `prometheus-${name}`
  return {
    statefulSet: base,
    service: base,
    headlessService: `${base}-headless`,
    configMap: `${base}-config`,
    serviceAccount: base,
    claimTemplate: 'data'
  }
}

/** The labels the StatefulSet selects its pods by. Never change them: the selector is immutable. */
export function selectorLabels(name: string): Record<string, string> {
  return { 'app.kubernetes.io/name': 'prometheus', 'app.kubernetes.io/instance': name }
}

/** The selector in the string form of the scale subresource (`kubectl get --selector`). */
export function selectorString(name: string): string {
  return Object.entries(selectorLabels(name))
    .map(([k, v]) => `${k}=${v}`)
    .join(',')
}
