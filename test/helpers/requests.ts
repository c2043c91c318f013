// Hook request bodies shaped as Metacontroller v4.17 sends them.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import type { KubeObject, ObjectsByType } from '../../src/api/hook-request.js'
import { CHILD_TYPES, typeKey } from '../../src/core/child-types.js'
import { LAST_APPLIED_ANNOTATION } from '../../src/core/children.js'
import { ROOT } from './env.js'

export interface Body {
  controller: Record<string, unknown>
  parent: Record<string, unknown> & { metadata: Record<string, unknown>; spec: Record<string, unknown> }
  children: ObjectsByType
  related: ObjectsByType
  finalizing: boolean
}

/** Every declared child type present and empty, as Metacontroller sends them before anything exists. */
export function emptyChildren(): ObjectsByType {
  return Object.fromEntries(CHILD_TYPES.map(typeKey).sort().map((key) => [key, {}]))
}

export function parentFrom(example: string, namespace = 'example'): Body['parent'] {
  const doc = parse(readFileSync(join(ROOT, 'examples', example), 'utf8')) as Body['parent']
  return {
    ...doc,
    metadata: { ...doc.metadata, namespace, uid: '6f1c2a9e-0000-4000-8000-000000000001', generation: 1 },
    spec: doc.spec
  }
}

export function body(parent: Body['parent'], children: ObjectsByType = emptyChildren(), finalizing = false): Body {
  return { controller: { metadata: { name: 'prometheus-cluster-controller' } }, parent, children, related: {}, finalizing }
}

/**
 * The children as Metacontroller observes them after applying `desired`: its last-applied
 * annotation, server-owned metadata, and (for the StatefulSet) a status. Keyed the v1 way
 * (by name) unless `v2` is set (namespace/name).
 */
export function observe(desired: readonly KubeObject[], namespace: string, stsStatus: Record<string, unknown> = {}, v2 = false): ObjectsByType {
  const children = emptyChildren()
  for (const object of desired) {
    const observed: KubeObject & Record<string, unknown> = structuredClone(object)
    observed.metadata = {
      ...observed.metadata,
      // server-owned fields Metacontroller's observed objects carry
      namespace,
      uid: `uid-${object.kind}-${object.metadata.name}`,
      resourceVersion: '100',
      generation: 1,
      creationTimestamp: '2026-01-01T00:00:00Z',
      annotations: { ...(observed.metadata.annotations ?? {}), [LAST_APPLIED_ANNOTATION]: JSON.stringify(object) }
    } as KubeObject['metadata']
    if (object.kind === 'StatefulSet') observed.status = { observedGeneration: 1, ...stsStatus }
    const key = typeKey(object)
    const byName = (children[key] ??= {})
    byName[v2 ? `${namespace}/${object.metadata.name}` : object.metadata.name] = observed
  }
  return children
}
