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
