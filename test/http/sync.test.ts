import t from 'tap'
import type { FastifyInstance } from 'fastify'
import type { KubeObject, SyncResponse } from '../../src/api/hook-request.js'
import { FIXED_NOW, standIn, testApp } from '../helpers/env.js'
import { body, observe, parentFrom } from '../helpers/requests.js'

async function post(app: FastifyInstance, path: string, payload: unknown) {
  const res = await app.inject({ method: 'POST', url: path, payload: payload as object })
  return { code: res.statusCode, json: res.json<SyncResponse & Record<string, unknown>>(), headers: res.headers }
}

async function helmStarts(app: FastifyInstance): Promise<number> {
  const text = (await app.inject({ url: '/metrics' })).body
  return Number(/pcc_subprocesses_started_total\{tool="helm"\} (\d+)/.exec(text)?.[1])
}

const conditions = (r: SyncResponse) => Object.fromEntries(r.status.conditions.map((c) => [c.type, c]))
const READY = { replicas: 1, readyReplicas: 1, updatedReplicas: 1, currentRevision: 'r1', updateRevision: 'r1' }

t.test('sync of spec {}: the children of a one-replica Prometheus, and a status waiting for them', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  const { code, json } = await post(app, '/sync', body(parentFrom('simple.yaml')))
  t.equal(code, 200)
  t.same(Object.keys(json).sort(), ['children', 'status'], 'nothing Metacontroller v2 would reject')
  t.same(
    json.children.map((c) => `${c.kind}/${c.metadata.name}`),
    [
      'ServiceAccount/promcluster-simple-prometheus-instance',
      'Role/promcluster-simple-prometheus-instance',
      'RoleBinding/promcluster-simple-prometheus-instance',
      'ConfigMap/promcluster-simple-prometheus-instance-config',
      'Service/promcluster-simple-prometheus-instance',
      'Service/promcluster-simple-prometheus-instance-headless',
      'StatefulSet/promcluster-simple-prometheus-instance'
    ]
  )
  const sts = json.children.find((c) => c.kind === 'StatefulSet') as KubeObject & { spec: { replicas: number; volumeClaimTemplates: { metadata: { name: string } }[] } }
  t.equal(sts.spec.replicas, 1)
  t.same(sts.spec.volumeClaimTemplates.map((v) => v.metadata.name), ['data'])
  t.match(conditions(json), { Ready: { status: 'False', reason: 'Creating' }, Degraded: { status: 'False' } })
})

t.test('a resync of an unchanged resource starts no helm process and answers the same bytes', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  const first = await app.inject({ method: 'POST', url: '/sync', payload: body(parentFrom('simple.yaml')) })
  const starts = await helmStarts(app)
  t.equal(starts, 1)
  const again = await app.inject({ method: 'POST', url: '/sync', payload: body(parentFrom('simple.yaml')) })
  t.equal(await helmStarts(app), 1)
  t.equal(again.body, first.body)
})

t.test('observed children that are running and ready: Ready, and the same children back (v1 and v2 keying)', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  const parent = parentFrom('simple.yaml')
  const desired = (await post(app, '/sync', body(parent))).json.children
  for (const v2 of [false, true]) {
    const { code, json } = await post(app, '/sync', body(parent, observe(desired, 'example', READY, v2)))
    t.equal(code, 200)
    t.same(json.children, desired)
    t.match(conditions(json), { Ready: { status: 'True', reason: 'AllReplicasReady' }, Progressing: { status: 'False' } })
    t.equal(json.status.readyReplicas, 1)
  }
})

t.test('the status the hook wrote comes back in the next sync as parent.status and is accepted', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  const parent = parentFrom('simple.yaml')
  const first = (await post(app, '/sync', body(parent))).json
  parent.status = { ...first.status, observedGeneration: 1 }
  const again = await post(app, '/sync', body(parent, observe(first.children, 'example', READY)))
  t.equal(again.code, 200)
  t.equal(conditions(again.json).Degraded?.lastTransitionTime, first.status.conditions[2]?.lastTransitionTime, 'unchanged condition keeps its time')
  for (const status of [null, 'garbage', { conditions: 'no' }, { conditions: [null, 1, { type: 'Ready' }] }]) {
    parent.status = status
    const odd = await post(app, '/sync', body(parent))
    t.equal(odd.code, 200, `a status of ${JSON.stringify(status)} is not a reason to refuse a sync`)
    t.equal(conditions(odd.json).Ready?.lastTransitionTime, FIXED_NOW)
  }
})

t.test('scaling: the StatefulSet follows replicas, a PodDisruptionBudget appears above one replica', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  const parent = parentFrom('simple.yaml')
  const one = (await post(app, '/sync', body(parent))).json.children
  parent.spec = { replicas: 3 }
  const { json } = await post(app, '/sync', body(parent, observe(one, 'example', READY)))
  const sts = json.children.find((c) => c.kind === 'StatefulSet') as KubeObject & { spec: { replicas: number } }
  t.equal(sts.spec.replicas, 3)
  t.ok(json.children.some((c) => c.kind === 'PodDisruptionBudget'))
  t.match(conditions(json), { Progressing: { status: 'True', reason: 'Scaling' }, Ready: { status: 'False' } })
})

t.test('a configuration promtool rejects changes nothing and is reported in the status', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  const parent = parentFrom('simple.yaml')
  const applied = (await post(app, '/sync', body(parent))).json.children
  parent.spec = { config: 'global:\n  scrape_interval: banana\n' }
  const { code, json } = await post(app, '/sync', body(parent, observe(applied, 'example', READY)))
  t.equal(code, 200)
  t.same(json.children, applied, 'the last applied children, unchanged')
  t.match(conditions(json), { Degraded: { status: 'True', reason: 'InvalidConfiguration', message: /banana/ }, Ready: { status: 'True' } })
  t.equal(json.resyncAfterSeconds, undefined, 'a bad config is not retried: a spec change brings the next sync')
})

t.test('paused: the observed children come back exactly as applied whatever the spec says', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  const parent = parentFrom('simple.yaml')
  const applied = (await post(app, '/sync', body(parent))).json.children
  const starts = await helmStarts(app)
  parent.spec = { replicas: 5, paused: true }
  const { json } = await post(app, '/sync', body(parent, observe(applied, 'example', READY)))
  t.same(json.children, applied)
  t.match(conditions(json), { Progressing: { status: 'False', reason: 'Paused' } })
  t.equal(await helmStarts(app), starts, 'no render while paused')
})

t.test('helm missing: nothing deleted or changed, the reason in the status, retried soon', async (t) => {
  const good = await testApp()
  t.teardown(() => good.close())
  const parent = parentFrom('simple.yaml')
  const applied = (await post(good, '/sync', body(parent))).json.children
  const app = await testApp({ HELM_BIN: '/nonexistent/helm', RETRY_AFTER_SECONDS: '7' })
  t.teardown(() => app.close())
  parent.spec = { replicas: 2 }
  const { code, json } = await post(app, '/sync', body(parent, observe(applied, 'example', READY)))
  t.equal(code, 200)
  t.same(json.children, applied)
  t.match(conditions(json), { Degraded: { status: 'True', reason: 'ToolMissing', message: /\/nonexistent\/helm/ } })
  t.equal(json.resyncAfterSeconds, 7)
  const none = await post(app, '/sync', body(parentFrom('simple.yaml')))
  t.same(none.json.children, [], 'with nothing observed, nothing is created and nothing deleted')
})

t.test('overload is answered 429 with Retry-After, which Metacontroller honours without touching children', async (t) => {
  const helmBin = await standIn('helm', 'sleep 1; exit 1')
  const app = await testApp({ HELM_BIN: helmBin, RENDER_CONCURRENCY: '1', RENDER_MAX_QUEUE: '0', RETRY_AFTER_SECONDS: '3' })
  t.teardown(() => app.close())
  const a = parentFrom('simple.yaml')
  const b = parentFrom('simple.yaml')
  b.spec = { replicas: 2 }
  const [first, second] = await Promise.all([post(app, '/sync', body(a)), post(app, '/sync', body(b))])
  t.equal(first.code, 200)
  t.equal(second.code, 429)
  t.equal(second.headers['retry-after'], '3')
  t.match(second.json, { code: 'Overloaded' })
})
