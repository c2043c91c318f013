// The child types the CompositeController declares, and the one order children are returned in.
import type { KubeObject } from '../api/hook-request.js'

export const CHILD_TYPES = [
  { apiVersion: 'v1', kind: 'ServiceAccount', resource: 'serviceaccounts' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', resource: 'roles' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', resource: 'rolebindings' },
  { apiVersion: 'v1', kind: 'ConfigMap', resource: 'configmaps' },
  { apiVersion: 'v1', kind: 'Service', resource: 'services' },
  { apiVersion: 'apps/v1', kind: 'StatefulSet', resource: 'statefulsets' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', resource: 'poddisruptionbudgets' }
] as const

export type ChildType = (typeof CHILD_TYPES)[number]
export type ChildKind = ChildType['kind']

/** The key of a type in a hook request's `children` (and `related`): `Kind.v1`, `Kind.group/version`. */
export function typeKey(type: Pick<KubeObject, 'apiVersion' | 'kind'>): string {
  return `${type.kind}.${type.apiVersion}`
}

const ORDER = new Map<string, number>(CHILD_TYPES.map((t, i) => [`${t.apiVersion}/${t.kind}`, i]))

export function isChildType(object: Pick<KubeObject, 'apiVersion' | 'kind'>): boolean {
  return ORDER.has(`${object.apiVersion}/${object.kind}`)
}

/** Sorts in place by declared type, then name (unknown types last), and returns the array. */
export function sortChildren<T extends KubeObject>(children: T[]): T[] {
  const rank = (o: KubeObject) => ORDER.get(`${o.apiVersion}/${o.kind}`) ?? CHILD_TYPES.length
  return children.sort((a, b) => rank(a) - rank(b) || a.metadata.name.localeCompare(b.metadata.name))
}
