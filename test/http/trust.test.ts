// Observed children are tenant input: on every answer that keeps children as they are (paused,
// each kind of failure, finalize), a tenant's forged annotations and adopted strangers must never
// come back as something Metacontroller would apply outside the cluster's own objects.
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import type { FinalizeResponse, KubeObject, ObjectsByType } from '../../src/api/hook-request.js'
import { grantsNoMore, LAST_APPLIED_ANNOTATION } from '../../src/core/children.js'
import { childNames } from '../../src/core/names.js'
import { failingHelm, testApp } from '../helpers/env.js'
import { body, observe, parentFrom, type Body } from '../helpers/requests.js'

const NS = 'example'
const NAME = 'simple-prometheus-instance'
const READY = { replicas: 1, readyReplicas: 1, updatedReplicas: 1, currentRevision: 'r1', updateRevision: 'r1' }

async function post(app: FastifyInstance, url: string, payload: Body) {
  const res = await app.inject({ method: 'POST', url, payload })
  return { code: res.statusCode, json: res.json<FinalizeResponse>() }
}

const annotate = (object: KubeObject, content: unknown): KubeObject => ({
  ...object,
  metadata: { ...object.metadata, annotations: { ...object.metadata.annotations, [LAST_APPLIED_ANNOTATION]: JSON.stringify(content) } }
})

/** What a tenant with `edit` (or `admin`) in the namespace can leave among the observed children. */
function hostile(observed: ObjectsByType): ObjectsByType {
  const out = structuredClone(observed)
  const byKind = (key: string) => (out[key] ??= {})
  const own = (key: string) => Object.values(byKind(key))[0] as KubeObject
  const sts = own('StatefulSet.apps/v1')
  byKind('StatefulSet.apps/v1')[`${NS}/${sts.metadata.name}`] = annotate(sts, {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: sts.metadata.name, namespace: 'kube-system' },
    spec: { template: { spec: { hostPID: true, containers: [{ name: 'x', image: 'evil', securityContext: { privileged: true } }] } } }
  })
  const role = own('Role.rbac.authorization.k8s.io/v1')
  byKind('Role.rbac.authorization.k8s.io/v1')[`${NS}/${role.metadata.name}`] = annotate(role, { ...role, rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] })
  const binding = own('RoleBinding.rbac.authorization.k8s.io/v1')
  byKind('RoleBinding.rbac.authorization.k8s.io/v1')[`${NS}/${binding.metadata.name}`] = annotate(binding, {
    ...binding,
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'User', name: 'tenant' }]
  })
  // An object the tenant labelled with the parent's controller-uid, which Metacontroller adopts.
  byKind('ConfigMap.v1')[`${NS}/pwned`] = annotate(
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'pwned', namespace: NS, labels: { 'controller-uid': 'x' } } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'pwned', namespace: 'kube-system' }, data: { a: 'b' } }
  )
  // The cluster's own name in another namespace, and a type the controller does not declare.
  const cm = own('ConfigMap.v1')
  byKind('ConfigMap.v1')[`kube-system/${cm.metadata.name}`] = { ...cm, metadata: { ...cm.metadata, namespace: 'kube-system' } }
  byKind('Secret.v1')[`${NS}/${cm.metadata.name}`] = { apiVersion: 'v1', kind: 'Secret', metadata: { name: cm.metadata.name, namespace: NS } }
  return out
}

function assertOnlyOwnChildren(t: Test, children: KubeObject[], applied: KubeObject[], what: string): void {
  const names = childNames(NAME) as Record<string, readonly string[]>
  for (const child of children) {
    t.equal(child.metadata.namespace, NS, `${what}: ${child.kind}/${child.metadata.name} in the parent's namespace`)
    t.ok(names[child.kind]?.includes(child.metadata.name), `${what}: ${child.kind}/${child.metadata.name} is a child the hook renders`)
    t.ok(grantsNoMore(child, { name: NAME, namespace: NS }), `${what}: ${child.kind}/${child.metadata.name} grants no more than the chart's`)
  }
  const text = JSON.stringify(children)
  for (const forged of ['kube-system', 'cluster-admin', 'privileged', 'hostPID', 'pwned', '"*"']) t.notOk(text.includes(forged), `${what}: nothing forged (${forged})`)
  t.same(
    children.map((c) => `${c.kind}/${c.metadata.name}`),
    applied.map((c) => `${c.kind}/${c.metadata.name}`),
    `${what}: every one of the cluster's own children is kept`
  )
}

const good = await testApp()
t.teardown(() => good.close())
const parent = parentFrom('simple.yaml', NS)
const applied = (await post(good, '/sync', body(parent))).json.children
const observed = hostile(observe(applied, NS, READY, true))

t.test('the chart renders only children the hook knows by kind and name, with RBAC it accepts as its own', async (t) => {
  for (const example of ['simple.yaml', 'scaled.yaml', 'full.yaml']) {
    const p = parentFrom(example, NS)
    const { json } = await post(good, '/sync', body(p))
    const names = childNames(p.metadata.name as string) as Record<string, readonly string[]>
    t.ok(json.children.length > 0, example)
    for (const child of json.children) {
      t.ok(names[child.kind]?.includes(child.metadata.name), `${example}: ${child.kind}/${child.metadata.name}`)
      t.ok(grantsNoMore(child, { name: p.metadata.name as string, namespace: NS }), `${example}: ${child.kind} grants no more than the chart's`)
    }
  }
})

t.test('paused: only the cluster\'s own children, none of the forged content', async (t) => {
  const { code, json } = await post(good, '/sync', body({ ...parent, spec: { paused: true } }, observed))
  t.equal(code, 200)
  assertOnlyOwnChildren(t, json.children, applied, 'paused')
})

t.test('an invalid spec: only the cluster\'s own children', async (t) => {
  const { code, json } = await post(good, '/sync', body({ ...parent, spec: { replicas: 'x' } }, observed))
  t.equal(code, 200)
  t.match(json.status.conditions, [{}, {}, { type: 'Degraded', reason: 'InvalidSpec' }])
  assertOnlyOwnChildren(t, json.children, applied, 'invalid spec')
})

t.test('a configuration promtool rejects: only the cluster\'s own children', async (t) => {
  const { code, json } = await post(good, '/sync', body({ ...parent, spec: { config: 'global:\n  scrape_interval: banana\n' } }, observed))
  t.equal(code, 200)
  t.match(json.status.conditions, [{}, {}, { type: 'Degraded', reason: 'InvalidConfiguration' }])
  assertOnlyOwnChildren(t, json.children, applied, 'invalid configuration')
})

t.test('stand-in helm failing, hanging or missing: only the cluster\'s own children', async (t) => {
  for (const [reason, env] of await failingHelm()) {
    const app = await testApp(env)
    const { code, json } = await post(app, '/sync', body(parent, observed))
    await app.close()
    t.equal(code, 200, reason)
    t.match(json.status.conditions, [{}, {}, { type: 'Degraded', reason }], reason)
    assertOnlyOwnChildren(t, json.children, applied, reason)
  }
})

t.test('finalize: only the cluster\'s own children, the StatefulSet stopped in the parent\'s namespace', async (t) => {
  const { code, json } = await post(good, '/finalize', body(parent, observed, true))
  t.equal(code, 200)
  assertOnlyOwnChildren(t, json.children, applied, 'finalize')
  t.match(json.children.find((c) => c.kind === 'StatefulSet'), { metadata: { namespace: NS }, spec: { replicas: 0 } })
})
