import t from 'tap'
import type { KubeObject } from '../../src/api/hook-request.js'
import { asLastApplied, LAST_APPLIED_ANNOTATION, observedStatefulSet, podsAreGone, unchangedChildren, withStatefulSetScaledToZero } from '../../src/core/children.js'

const desired: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labels: { a: 'b' } }, data: { x: '1' } }

t.test('an observed child is returned as last applied, from the annotation', async (t) => {
  const observed = { ...desired, metadata: { ...desired.metadata, uid: 'u', resourceVersion: '9', annotations: { [LAST_APPLIED_ANNOTATION]: JSON.stringify(desired) } }, data: { x: 'changed-by-someone' } }
  t.same(asLastApplied(observed), desired)
})

t.test('without a usable annotation the observed object is returned without server-owned fields', async (t) => {
  for (const annotation of [undefined, '', '{not json', JSON.stringify({ kind: 'Other', metadata: { name: 'c' } })]) {
    const observed = {
      ...desired,
      metadata: { ...desired.metadata, uid: 'u', resourceVersion: '9', generation: 2, managedFields: [], ownerReferences: [], creationTimestamp: 'x', annotations: (annotation === undefined ? { keep: 'me' } : { keep: 'me', [LAST_APPLIED_ANNOTATION]: annotation }) as Record<string, string> },
      status: { anything: true }
    }
    t.same(asLastApplied(observed), { ...desired, metadata: { name: 'c', labels: { a: 'b' }, annotations: { keep: 'me' } } }, String(annotation))
  }
})

t.test('unchangedChildren keeps every observed child except those already being deleted, in a stable order', async (t) => {
  const children = {
    'Service.v1': { b: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'b' } }, a: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a' } } },
    'ConfigMap.v1': { gone: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'gone', deletionTimestamp: '2026-01-01T00:00:00Z' } } },
    'StatefulSet.apps/v1': {}
  }
  t.same(
    unchangedChildren(children).map((c) => `${c.kind}/${c.metadata.name}`),
    ['Service/a', 'Service/b']
  )
})

t.test('the StatefulSet is found by name among observed children, v1 or v2 keyed', async (t) => {
  const sts = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'prometheus-x' } }
  t.equal(observedStatefulSet({ 'StatefulSet.apps/v1': { 'prometheus-x': sts } }, 'prometheus-x'), sts)
  t.equal(observedStatefulSet({ 'StatefulSet.apps/v1': { 'ns/prometheus-x': sts } }, 'prometheus-x'), sts)
  t.equal(observedStatefulSet({ 'StatefulSet.apps/v1': { other: { ...sts, metadata: { name: 'other' } } } }, 'prometheus-x'), undefined)
  t.equal(observedStatefulSet({}, 'prometheus-x'), undefined)
})

t.test('scaling to zero touches only the named StatefulSet and copies it', async (t) => {
  const sts = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 's' }, spec: { replicas: 3, serviceName: 'h' } }
  const other = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'other' }, spec: { replicas: 3 } }
  const out = withStatefulSetScaledToZero([desired, sts, other], 's')
  t.same(out, [desired, { ...sts, spec: { replicas: 0, serviceName: 'h' } }, other])
  t.equal(sts.spec.replicas, 3, 'input not mutated')
})

t.test('pods are gone only when the scale-down is observed and no pod is left', async (t) => {
  t.ok(podsAreGone(undefined))
  t.ok(podsAreGone({ metadata: { generation: 4 }, spec: { replicas: 0 }, status: { observedGeneration: 4, replicas: 0 } }))
  t.notOk(podsAreGone({ metadata: { generation: 4 }, spec: { replicas: 0 }, status: { observedGeneration: 4, replicas: 1 } }), 'a pod still terminating')
  t.notOk(podsAreGone({ metadata: { generation: 4 }, spec: { replicas: 0 }, status: { observedGeneration: 3, replicas: 0 } }), 'scale-down not observed yet')
  t.notOk(podsAreGone({ metadata: { generation: 4 }, spec: { replicas: 2 }, status: { observedGeneration: 4, replicas: 0 } }), 'not scaled to zero yet')
})
