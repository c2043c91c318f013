import t from 'tap'
import type { KubeObject, ObjectsByType } from '../../src/api/hook-request.js'
import {
  LAST_APPLIED_ANNOTATION,
  observedStatefulSet,
  ownObjects,
  podsAreGone,
  retentionOnDelete,
  statefulSetView,
  unchangedChildren,
  withStatefulSetStopped
} from '../../src/core/children.js'

const owner = { name: 'x', namespace: 'team-a' }
const desired: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'promcluster-x-config', namespace: 'team-a', labels: { a: 'b' } }, data: { x: '1' } }
const withAnnotation = (object: KubeObject, annotation: string | undefined, extra: Record<string, unknown> = {}): KubeObject => ({
  ...object,
  metadata: {
    ...object.metadata,
    uid: 'u',
    resourceVersion: '9',
    ...extra,
    annotations: (annotation === undefined ? { keep: 'me' } : { keep: 'me', [LAST_APPLIED_ANNOTATION]: annotation })
  } as KubeObject['metadata']
})
const stripped = { ...desired, metadata: { ...desired.metadata, annotations: { keep: 'me' } } }
/** The one child an answer that changes nothing returns for a single observed ConfigMap. */
const asLastApplied = (observed: KubeObject) => unchangedChildren({ 'ConfigMap.v1': { [`team-a/${observed.metadata.name}`]: observed } }, owner)[0]

t.test('an observed child is returned as last applied, from the annotation that describes it', async (t) => {
  const observed = { ...withAnnotation(desired, JSON.stringify(desired)), data: { x: 'changed-by-someone' } }
  t.same(asLastApplied(observed), desired)
})

t.test('an annotation describing any other object is never returned: the observed object is, without server fields', async (t) => {
  const others: [string, unknown][] = [
    ['another namespace', { ...desired, metadata: { ...desired.metadata, namespace: 'kube-system' } }],
    ['no namespace', { ...desired, metadata: { name: desired.metadata.name } }],
    ['another name', { ...desired, metadata: { ...desired.metadata, name: 'pwned' } }],
    ['another kind', { ...desired, kind: 'Secret' }],
    ['another apiVersion', { ...desired, apiVersion: 'v2' }],
    ['a RoleBinding to cluster-admin', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'pwned', namespace: 'kube-system' }, roleRef: { kind: 'ClusterRole', name: 'cluster-admin' } }],
    ['no metadata', { apiVersion: 'v1', kind: 'ConfigMap' }],
    ['an array', [desired]],
    ['a string', 'x'],
    ['null', null]
  ]
  for (const [name, annotation] of others) {
    const observed = { ...withAnnotation(desired, JSON.stringify(annotation), { generation: 2, managedFields: [], ownerReferences: [], creationTimestamp: 'x' }), status: { anything: true } }
    t.same(asLastApplied(observed), stripped, name)
  }
  for (const annotation of [undefined, '', '{not json']) t.same(asLastApplied(withAnnotation(desired, annotation)), stripped, String(annotation))
})

const sts = (name: string, namespace = 'team-a'): KubeObject => ({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name, namespace } })

t.test('only the kinds and names the chart renders for the owner, in its namespace, are its own', async (t) => {
  const children: ObjectsByType = {
    'ConfigMap.v1': {
      'team-a/promcluster-x-config': desired,
      'team-a/adopted': { ...desired, metadata: { ...desired.metadata, name: 'adopted' } },
      'kube-system/promcluster-x-config': { ...desired, metadata: { ...desired.metadata, namespace: 'kube-system' } }
    },
    'Service.v1': {
      'team-a/promcluster-x': { apiVersion: 'v1', kind: 'Service', metadata: { name: 'promcluster-x', namespace: 'team-a' } },
      'team-a/promcluster-x-headless': { apiVersion: 'v1', kind: 'Service', metadata: { name: 'promcluster-x-headless', namespace: 'team-a' } },
      'team-a/promcluster-y': { apiVersion: 'v1', kind: 'Service', metadata: { name: 'promcluster-y', namespace: 'team-a' } }
    },
    // An object filed under a type key it does not belong to.
    'StatefulSet.apps/v1': { 'team-a/promcluster-x': { ...desired, metadata: { ...desired.metadata, name: 'promcluster-x' } } },
    'Pod.v1': { 'team-a/promcluster-x': { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'promcluster-x', namespace: 'team-a' } } }
  }
  t.same(
    ownObjects(children, owner).map((c) => `${c.kind}/${c.metadata.namespace ?? ''}/${c.metadata.name}`),
    ['ConfigMap/team-a/promcluster-x-config', 'Service/team-a/promcluster-x', 'Service/team-a/promcluster-x-headless']
  )
})

t.test('unchangedChildren keeps the owner\'s children except those already being deleted, in a stable order', async (t) => {
  const children = {
    'Service.v1': {
      b: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'promcluster-x-headless', namespace: 'team-a' } },
      a: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'promcluster-x', namespace: 'team-a' } }
    },
    'ConfigMap.v1': { gone: { ...desired, metadata: { ...desired.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } } },
    'StatefulSet.apps/v1': {}
  }
  t.same(
    unchangedChildren(children, owner).map((c) => `${c.kind}/${c.metadata.name}`),
    ['Service/promcluster-x', 'Service/promcluster-x-headless']
  )
})

t.test('the StatefulSet is found by the owner\'s name and namespace, v1 or v2 keyed', async (t) => {
  const mine = { ...sts('promcluster-x'), spec: { replicas: 2 } }
  t.match(observedStatefulSet({ 'StatefulSet.apps/v1': { 'promcluster-x': mine } }, owner), { spec: { replicas: 2 } })
  t.match(observedStatefulSet({ 'StatefulSet.apps/v1': { 'team-a/promcluster-x': mine } }, owner), { spec: { replicas: 2 } })
  t.equal(observedStatefulSet({ 'StatefulSet.apps/v1': { other: sts('other') } }, owner), undefined)
  t.equal(observedStatefulSet({ 'StatefulSet.apps/v1': { 'kube-system/promcluster-x': sts('promcluster-x', 'kube-system') } }, owner), undefined)
  t.equal(observedStatefulSet({}, owner), undefined)
})

t.test('an observed StatefulSet is read only for fields of the types the API server gives them', async (t) => {
  const odd = {
    ...sts('promcluster-x'),
    metadata: { name: 'promcluster-x', namespace: 'team-a', generation: -1 },
    spec: { replicas: '3', template: { spec: { containers: [null, { name: 'prometheus', image: 7 }, 'x'] } } },
    status: { replicas: 1.5, readyReplicas: 2, currentRevision: {}, observedGeneration: null }
  } as unknown as KubeObject
  t.same(statefulSetView(odd), {
    metadata: { generation: undefined },
    spec: { replicas: undefined, template: { spec: { containers: [{ name: 'prometheus', image: undefined }] } } },
    status: { observedGeneration: undefined, replicas: undefined, readyReplicas: 2, updatedReplicas: undefined, currentRevision: undefined, updateRevision: undefined }
  })
  t.same(statefulSetView({ ...sts('promcluster-x'), spec: 'x', status: [] }).spec, { replicas: undefined, template: { spec: { containers: undefined } } })
})

t.test('stopping sets zero replicas and one retention for deletion and scale-down, on the named StatefulSet only', async (t) => {
  const mine = { ...sts('promcluster-x'), spec: { replicas: 3, serviceName: 'h', persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' } } }
  const other = { ...sts('other'), spec: { replicas: 3 } }
  for (const retention of ['Retain', 'Delete'] as const) {
    const out = withStatefulSetStopped([desired, mine, other], 'promcluster-x', retention)
    t.same(out, [desired, { ...mine, spec: { replicas: 0, serviceName: 'h', persistentVolumeClaimRetentionPolicy: { whenDeleted: retention, whenScaled: retention } } }, other], retention)
  }
  t.equal(mine.spec.replicas, 3, 'input not mutated')
})

t.test('the retention on deletion is read from any spec: only an explicit Delete deletes', async (t) => {
  t.equal(retentionOnDelete({ storage: { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete' } } }), 'Delete')
  t.equal(retentionOnDelete({ replicas: 'not a number', storage: { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 7 } } }), 'Delete', 'an invalid spec elsewhere')
  for (const spec of [undefined, null, 'x', [], {}, { storage: null }, { storage: { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain' } } }, { storage: { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'delete' } } }]) {
    t.equal(retentionOnDelete(spec), 'Retain', JSON.stringify(spec))
  }
})

t.test('pods are gone only when the scale-down is observed and no pod is left', async (t) => {
  t.ok(podsAreGone(undefined))
  t.ok(podsAreGone({ metadata: { generation: 4 }, spec: { replicas: 0 }, status: { observedGeneration: 4, replicas: 0 } }))
  t.notOk(podsAreGone({ metadata: { generation: 4 }, spec: { replicas: 0 }, status: { observedGeneration: 4, replicas: 1 } }), 'a pod still terminating')
  t.notOk(podsAreGone({ metadata: { generation: 4 }, spec: { replicas: 0 }, status: { observedGeneration: 3, replicas: 0 } }), 'scale-down not observed yet')
  t.notOk(podsAreGone({ metadata: { generation: 4 }, spec: { replicas: 2 }, status: { observedGeneration: 4, replicas: 0 } }), 'not scaled to zero yet')
})
