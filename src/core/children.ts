// Observed children -> the answers that change nothing. Pure. When the hook cannot (or must not)
// compute new children, it returns what Metacontroller last applied: an observed child left out of
// a response would be deleted.
import type { KubeObject, ObjectsByType } from '../api/hook-request.js'
import { sortChildren } from './child-types.js'
import type { ObservedStatefulSet } from './status.js'

export const LAST_APPLIED_ANNOTATION = 'metacontroller.k8s.io/last-applied-configuration'
export const STATEFULSET_KEY = 'StatefulSet.apps/v1'

const SERVER_METADATA = new Set(['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'ownerReferences', 'selfLink'])

/** An observed child as it was last applied: the annotation's content, or the object without the fields the server owns. */
export function asLastApplied(child: KubeObject): KubeObject {
  const annotation = child.metadata.annotations?.[LAST_APPLIED_ANNOTATION]
  if (annotation !== undefined && annotation !== '') {
    try {
      const parsed = JSON.parse(annotation) as unknown
      if (typeof parsed === 'object' && parsed !== null && (parsed as KubeObject).kind === child.kind && (parsed as KubeObject).metadata.name === child.metadata.name) {
        return parsed as KubeObject
      }
    } catch {
      // fall through to the observed object
    }
  }
  const metadata: Record<string, unknown> = Object.fromEntries(Object.entries(child.metadata).filter(([key]) => !SERVER_METADATA.has(key)))
  if (child.metadata.annotations) {
    metadata.annotations = Object.fromEntries(Object.entries(child.metadata.annotations).filter(([key]) => key !== LAST_APPLIED_ANNOTATION))
  }
  const { status: _status, ...rest } = child as KubeObject & { status?: unknown }
  return { ...rest, metadata } as KubeObject
}

/** Every observed child that is not already being deleted, as last applied, in a stable order. */
export function unchangedChildren(children: ObjectsByType): KubeObject[] {
  return sortChildren(
    Object.values(children)
      .flatMap((objects) => Object.values(objects))
      .filter((child) => child.metadata.deletionTimestamp === undefined)
      .map(asLastApplied)
  )
}

export function observedStatefulSet(children: ObjectsByType, name: string): (KubeObject & ObservedStatefulSet) | undefined {
  const objects: Record<string, KubeObject & ObservedStatefulSet> = children[STATEFULSET_KEY] ?? {}
  return Object.values(objects).find((sts) => sts.metadata.name === name)
}

/** The given children with the named StatefulSet set to zero replicas; everything else unchanged. */
export function withStatefulSetScaledToZero(children: KubeObject[], name: string): KubeObject[] {
  return children.map((child) => {
    if (child.kind !== 'StatefulSet' || child.metadata.name !== name) return child
    const spec = (child.spec ?? {}) as Record<string, unknown>
    return { ...child, spec: { ...spec, replicas: 0 } }
  })
}

/** True once the StatefulSet is gone, or scaled to zero with every pod gone. */
export function podsAreGone(sts: ObservedStatefulSet | undefined): boolean {
  if (!sts) return true
  const status = sts.status ?? {}
  return sts.spec?.replicas === 0 && (status.replicas ?? 0) === 0 && (status.observedGeneration ?? 0) >= (sts.metadata.generation ?? 0)
}
