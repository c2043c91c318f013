// parent -> the objects Metacontroller sends with each of its hook calls as `related`. Pure.
// The cluster's StatefulSet by name: an orphaned one (no longer a child, so never in `children`)
// still runs the cluster's pods, and finalize must wait for them. Asking by name in the parent's
// namespace adds no watch Metacontroller does not already have (StatefulSets are children).
import type { RelatedResourceRule } from '../api/hook-request.js'
import { CHILD_TYPES } from './child-types.js'
import type { Owner } from './children.js'
import { childNames } from './names.js'

export function relatedResources(owner: Owner): RelatedResourceRule[] {
  return CHILD_TYPES.filter((type) => type.kind === 'StatefulSet').map((type) => ({
    apiVersion: type.apiVersion,
    resource: type.resource,
    namespace: owner.namespace,
    names: [...childNames(owner.name)[type.kind]]
  }))
}
