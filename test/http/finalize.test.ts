import t from 'tap'
import type { FastifyInstance } from 'fastify'
import type { FinalizeResponse, KubeObject } from '../../src/api/hook-request.js'
import { testApp } from '../helpers/env.js'
import { body, emptyChildren, observe, parentFrom } from '../helpers/requests.js'

async function post(app: FastifyInstance, path: string, payload: unknown) {
  const res = await app.inject({ method: 'POST', url: path, payload: payload as object })
  return { code: res.statusCode, json: res.json<FinalizeResponse>() }
}

const stsOf = (children: KubeObject[]) => children.find((c) => c.kind === 'StatefulSet') as (KubeObject & { spec: { replicas: number } }) | undefined

t.test('finalize scales the StatefulSet to zero, keeps every other child, and holds the finalizer while pods run', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  const parent = parentFrom('scaled.yaml')
  const applied = (await post(app, '/sync', body(parent))).json.children
  const running = observe(applied, 'example', { replicas: 3, readyReplicas: 3 })
  const { code, json } = await post(app, '/finalize', body(parent, running, true))
  t.equal(code, 200)
  t.equal(json.finalized, false)
  t.equal(stsOf(json.children)?.spec.replicas, 0)
  t.same(
    json.children.map((c) => `${c.kind}/${c.metadata.name}`),
    applied.map((c) => `${c.kind}/${c.metadata.name}`),
    'nothing but the scale changes'
  )
  t.match(json.status.conditions, [{ type: 'Ready', status: 'False', reason: 'Terminating' }, { type: 'Progressing', status: 'True', reason: 'Terminating' }])
})

t.test('finalize releases the finalizer once the scale-down is observed and every pod is gone', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  const parent = parentFrom('simple.yaml')
  const applied = (await post(app, '/sync', body(parent))).json.children.map((c) => (c.kind === 'StatefulSet' ? { ...c, spec: { ...(c.spec as object), replicas: 0 } } : c))
  const stillTerminating = await post(app, '/finalize', body(parent, observe(applied, 'example', { replicas: 1 }), true))
  t.equal(stillTerminating.json.finalized, false)
  const gone = await post(app, '/finalize', body(parent, observe(applied, 'example', { replicas: 0 }), true))
  t.equal(gone.json.finalized, true)
  const nothing = await post(app, '/finalize', body(parent, emptyChildren(), true))
  t.equal(nothing.json.finalized, true, 'nothing was ever created')
  t.same(nothing.json.children, [])
})

t.test('finalize needs no helm: it works while helm is missing', async (t) => {
  const good = await testApp()
  t.teardown(() => good.close())
  const parent = parentFrom('simple.yaml')
  const applied = (await post(good, '/sync', body(parent))).json.children
  const app = await testApp({ HELM_BIN: '/nonexistent/helm' })
  t.teardown(() => app.close())
  const { code, json } = await post(app, '/finalize', body(parent, observe(applied, 'example', { replicas: 1 }), true))
  t.equal(code, 200)
  t.equal(stsOf(json.children)?.spec.replicas, 0)
  t.equal(json.children.length, applied.length)
})

type StoppedSts = KubeObject & { spec: { replicas: number; persistentVolumeClaimRetentionPolicy: { whenDeleted: string; whenScaled: string } } }
const policyOf = (children: KubeObject[]) => (stsOf(children) as StoppedSts | undefined)?.spec.persistentVolumeClaimRetentionPolicy

t.test('finalize keeps or deletes the claims as the current spec says, not as last applied', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  const deleting = parentFrom('storage.yaml')
  const storage = (s: Record<string, unknown>, whenDeleted: string, whenScaled = 'Retain') => ({ ...s, storage: { ...(s.storage as object), persistentVolumeClaimRetentionPolicy: { whenDeleted, whenScaled } } })
  // Applied while the spec said Delete (whenScaled too), then switched to Retain while paused.
  const appliedDelete = (await post(app, '/sync', body({ ...deleting, spec: storage(deleting.spec, 'Delete', 'Delete') }))).json.children
  t.same(policyOf(appliedDelete), { whenDeleted: 'Delete', whenScaled: 'Delete' }, 'applied with Delete')
  const running = observe(appliedDelete, 'example', { replicas: 1 })
  const retained = await post(app, '/finalize', body({ ...deleting, spec: { ...storage(deleting.spec, 'Retain', 'Delete'), paused: true } }, running, true))
  t.same(policyOf(retained.json.children), { whenDeleted: 'Retain', whenScaled: 'Retain' }, 'the current spec keeps the claims, and scaling to zero cannot delete them')
  const invalid = await post(app, '/finalize', body({ ...deleting, spec: { replicas: 'x' } }, running, true))
  t.equal(invalid.code, 200, 'a spec the hook cannot validate still finalizes')
  t.same(policyOf(invalid.json.children), { whenDeleted: 'Retain', whenScaled: 'Retain' }, 'and keeps the claims')
  const deleted = await post(app, '/finalize', body({ ...deleting, spec: storage(deleting.spec, 'Delete') }, observe((await post(app, '/sync', body(deleting))).json.children, 'example', { replicas: 1 }), true))
  t.same(policyOf(deleted.json.children), { whenDeleted: 'Delete', whenScaled: 'Delete' }, 'Delete when the current spec says so')
})

t.test('finalize without a StatefulSet child releases the finalizer: an orphaned one is neither scaled nor deleted by it', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  const parent = parentFrom('simple.yaml')
  const applied = (await post(app, '/sync', body(parent))).json.children
  // A StatefulSet of the cluster's name that is no longer a child (its controller-uid label changed,
  // or kubectl delete --cascade=orphan): not in children, whatever else Metacontroller sends.
  const orphan = observe(applied, 'example', { replicas: 1 }, true)
  const res = await post(app, '/finalize', { ...body(parent, emptyChildren(), true), related: { 'StatefulSet.apps/v1': orphan['StatefulSet.apps/v1'] ?? {} } })
  t.equal(res.json.finalized, true, 'nothing of the cluster\'s own is left to stop')
  t.same(res.json.children, [], 'and nothing is returned for Metacontroller to apply')
})
