// Observed children -> the answers that change nothing. Pure. When the hook cannot (or must not)
// compute new children, it returns what Metacontroller last applied: an observed child left out of
// a response would be deleted.
//
// Everything observed is input a tenant may have written: an object in the parent's namespace that
// carries the parent's controller-uid label is adopted by Metacontroller, and its annotations are
// the tenant's to edit. Metacontroller applies the answer with its own cluster-wide rights, so an
// answer holds only objects of the kinds and names the chart renders for this parent, in the
// parent's namespace, and content taken from an annotation only when the annotation describes the
// very object it sits on. Anything else observed is left out (and so deleted by Metacontroller).
import type { KubeObject, ObjectsByType } from '../api/hook-request.js'
import { CHILD_TYPES, sortChildren, typeKey } from './child-types.js'
import { childNames, clusterNames } from './names.js'
import type { ObservedStatefulSet } from './status.js'

export const LAST_APPLIED_ANNOTATION = 'metacontroller.k8s.io/last-applied-configuration'
export const STATEFULSET_KEY = typeKey({ apiVersion: 'apps/v1', kind: 'StatefulSet' })

const SERVER_METADATA = new Set(['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'ownerReferences', 'selfLink'])

/** The parent an answer is for. */
export interface Owner {
  name: string
  namespace: string
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** True when `value` names the same object as `child`: apiVersion, kind, namespace and name. */
function describesSameObject(value: unknown, child: KubeObject): value is KubeObject {
  if (!isRecord(value) || !isRecord(value.metadata)) return false
  return value.apiVersion === child.apiVersion && value.kind === child.kind && value.metadata.name === child.metadata.name && value.metadata.namespace === child.metadata.namespace
}

/** The content of the last-applied annotation, when it describes this very object (same apiVersion, kind, namespace and name). */
function annotatedContent(child: KubeObject): KubeObject | undefined {
  const annotation = child.metadata.annotations?.[LAST_APPLIED_ANNOTATION]
  if (annotation === undefined || annotation === '') return undefined
  try {
    const parsed = JSON.parse(annotation) as unknown
    return describesSameObject(parsed, child) ? parsed : undefined
  } catch {
    return undefined
  }
}

/** The observed object without the fields the server owns (and without its last-applied annotation). */
function withoutServerFields(child: KubeObject): KubeObject {
  const metadata: Record<string, unknown> = Object.fromEntries(Object.entries(child.metadata).filter(([key]) => !SERVER_METADATA.has(key)))
  if (child.metadata.annotations) {
    metadata.annotations = Object.fromEntries(Object.entries(child.metadata.annotations).filter(([key]) => key !== LAST_APPLIED_ANNOTATION))
  }
  const { status: _status, ...rest } = child as KubeObject & { status?: unknown }
  return { ...rest, metadata } as KubeObject
}

/**
 * The observed objects of `children` (or `related`) that are the owner's own: of a declared child
 * type, with a name the chart renders for the owner, in the owner's namespace. Strangers are left out.
 */
export function ownObjects(objects: ObjectsByType, owner: Owner): KubeObject[] {
  const names = childNames(owner.name)
  return CHILD_TYPES.flatMap((type) =>
    Object.values(objects[typeKey(type)] ?? {}).filter(
      (o) => o.apiVersion === type.apiVersion && o.kind === type.kind && o.metadata.namespace === owner.namespace && names[type.kind].includes(o.metadata.name)
    )
  )
}

const READ_VERBS = new Set(['get', 'list', 'watch'])
const stringsIn = (value: unknown): string[] | undefined => (Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined)

/**
 * Whether an RBAC object grants no more than the chart's do: a Role that only reads (no wildcard,
 * no Secrets, no non-resource URLs), a RoleBinding of the owner's Role to the owner's account
 * only. RBAC is the one place where content Metacontroller applies with its own rights (it may
 * escalate and bind) could grant more than the tenant who wrote it holds.
 */
export function grantsNoMore(object: KubeObject, owner: Owner): boolean {
  const names = childNames(owner.name)
  if (object.kind === 'Role') {
    const rules = object.rules
    return (
      rules === undefined ||
      (Array.isArray(rules) &&
        rules.every((rule) => {
          if (!isRecord(rule) || rule.nonResourceURLs !== undefined) return false
          const [groups, resources, verbs] = [stringsIn(rule.apiGroups), stringsIn(rule.resources), stringsIn(rule.verbs)]
          return (
            groups !== undefined && resources !== undefined && verbs !== undefined &&
            ![...groups, ...resources, ...verbs].includes('*') &&
            !resources.some((r) => r === 'secrets' || r.startsWith('secrets/')) &&
            verbs.every((v) => READ_VERBS.has(v))
          )
        }))
    )
  }
  if (object.kind === 'RoleBinding') {
    const { roleRef, subjects } = object
    return (
      isRecord(roleRef) && roleRef.apiGroup === 'rbac.authorization.k8s.io' && roleRef.kind === 'Role' && names.Role.includes(roleRef.name as string) &&
      Array.isArray(subjects) &&
      subjects.every((s) => isRecord(s) && s.kind === 'ServiceAccount' && names.ServiceAccount.includes(s.name as string) && (s.namespace === undefined || s.namespace === owner.namespace))
    )
  }
  return true
}

/**
 * The owner's observed children that are not already being deleted, as last applied, in a stable
 * order. For RBAC objects, content that grants more than the chart's is passed over: the observed
 * object is used instead, and if it grants more too, the object is left out (the next render
 * restores it).
 */
export function unchangedChildren(children: ObjectsByType, owner: Owner): KubeObject[] {
  return sortChildren(
    ownObjects(children, owner)
      .filter((child) => child.metadata.deletionTimestamp === undefined)
      .flatMap((child) => [annotatedContent(child), withoutServerFields(child)].find((c) => c !== undefined && grantsNoMore(c, owner)) ?? [])
  )
}

/** The owner's StatefulSet among `objects` (children, or related objects), if observed. */
export function observedStatefulSet(objects: ObjectsByType, owner: Owner): ObservedStatefulSet | undefined {
  // On every call: looks at the StatefulSets only, by the one name the chart gives it.
  const name = clusterNames(owner.name).statefulSet
  const sts = Object.values(objects[STATEFULSET_KEY] ?? {}).find(
    (o) => o.apiVersion === 'apps/v1' && o.kind === 'StatefulSet' && o.metadata.namespace === owner.namespace && o.metadata.name === name
  )
  return sts && statefulSetView(sts)
}

const count = (value: unknown): number | undefined => (Number.isSafeInteger(value) && (value as number) >= 0 ? (value as number) : undefined)
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined)

/**
 * The fields of an observed StatefulSet the status and finalize read, each only when it has the
 * type the API server gives it: anything else observed is tenant-writable input, not a promise.
 */
export function statefulSetView(sts: KubeObject): ObservedStatefulSet {
  const spec = isRecord(sts.spec) ? sts.spec : {}
  const status = isRecord(sts.status) ? sts.status : {}
  const template = isRecord(spec.template) && isRecord(spec.template.spec) ? spec.template.spec : {}
  const containers = Array.isArray(template.containers) ? template.containers.filter(isRecord).map((c) => ({ name: text(c.name), image: text(c.image) })) : undefined
  return {
    metadata: { generation: count(sts.metadata.generation) },
    spec: { replicas: count(spec.replicas), template: { spec: { containers } } },
    status: {
      observedGeneration: count(status.observedGeneration),
      replicas: count(status.replicas),
      readyReplicas: count(status.readyReplicas),
      updatedReplicas: count(status.updatedReplicas),
      currentRevision: text(status.currentRevision),
      updateRevision: text(status.updateRevision)
    }
  }
}

export type RetentionMode = 'Retain' | 'Delete'

/**
 * What the current spec asks for the claims of a deleted cluster, read without needing a valid
 * spec: anything but an explicit `Delete` keeps them.
 */
export function retentionOnDelete(spec: unknown): RetentionMode {
  const policy = isRecord(spec) && isRecord(spec.storage) ? spec.storage.persistentVolumeClaimRetentionPolicy : undefined
  return isRecord(policy) && policy.whenDeleted === 'Delete' ? 'Delete' : 'Retain'
}

/**
 * The given children with the named StatefulSet set to zero replicas and the claim retention of a
 * deletion: `whenDeleted` from the current spec, and `whenScaled` the same, because scaling to
 * zero removes every pod, and `whenScaled: Delete` would delete every claim before the deletion
 * itself is decided. Everything else unchanged.
 */
export function withStatefulSetStopped(children: KubeObject[], name: string, retention: RetentionMode): KubeObject[] {
  return children.map((child) => {
    if (child.kind !== 'StatefulSet' || child.metadata.name !== name) return child
    const spec = isRecord(child.spec) ? child.spec : {}
    return { ...child, spec: { ...spec, replicas: 0, persistentVolumeClaimRetentionPolicy: { whenDeleted: retention, whenScaled: retention } } }
  })
}

/** True once the StatefulSet is gone, or scaled to zero with every pod gone. */
export function podsAreGone(sts: ObservedStatefulSet | undefined): boolean {
  if (!sts) return true
  const status = sts.status ?? {}
  return sts.spec?.replicas === 0 && (status.replicas ?? 0) === 0 && (status.observedGeneration ?? 0) >= (sts.metadata.generation ?? 0)
}
