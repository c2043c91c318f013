import t from 'tap'
import { parseAllDocuments } from 'yaml'
import type { KubeObject, SyncResponse } from '../../src/api/hook-request.js'
import { testApp } from '../helpers/env.js'
import { body, observe, parentFrom } from '../helpers/requests.js'

async function helmStarts(app: Awaited<ReturnType<typeof testApp>>): Promise<number> {
  const text = (await app.inject({ url: '/metrics' })).body
  return Number(/pcc_subprocesses_started_total\{tool="helm"\} (\d+)/.exec(text)?.[1])
}

t.test('malformed JSON: 400, no helm process', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'POST', url: '/sync', headers: { 'content-type': 'application/json' }, payload: '{"parent": {' })
  t.equal(res.statusCode, 400)
  t.match(res.json(), { message: /JSON/ })
  t.equal(await helmStarts(app), 0)
})

t.test('a body that is not JSON: 415', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'POST', url: '/sync', headers: { 'content-type': 'text/plain' }, payload: 'hello' })
  t.equal(res.statusCode, 415)
})

t.test('a body over the limit: 413', async (t) => {
  const app = await testApp({ BODY_LIMIT_BYTES: '65536' })
  t.teardown(() => app.close())
  const b = body(parentFrom('simple.yaml'))
  b.parent.metadata.annotations = { big: 'x'.repeat(70_000) }
  const res = await app.inject({ method: 'POST', url: '/sync', payload: b })
  t.equal(res.statusCode, 413)
})

t.test('an envelope that is not Metacontroller\'s: 422 naming the field, no helm process, for every hook', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  for (const url of ['/sync', '/finalize']) {
    const b = body(parentFrom('simple.yaml'))
    b.parent.metadata.namespace = 7
    b.children['ConfigMap.v1'] = { x: { apiVersion: 'v1', kind: 'ConfigMap' } as never }
    const res = await app.inject({ method: 'POST', url, payload: b })
    t.equal(res.statusCode, 422, url)
    const json = res.json<{ code: string; message: string; errors: { field: string }[] }>()
    t.equal(json.code, 'InvalidRequest')
    t.match(json.message, /parent\.metadata\.namespace: Expected string/)
    t.ok(json.errors.some((e) => e.field === 'children.ConfigMap.v1.x.metadata'), 'the child without metadata is named')
  }
  t.equal(await helmStarts(app), 0)
})

t.test('wrong types and unknown fields in the spec: 200, Degraded InvalidSpec naming the field, the children kept, no helm process', async (t) => {
  const good = await testApp()
  t.teardown(() => good.close())
  const parent = parentFrom('simple.yaml')
  const applied = (await good.inject({ method: 'POST', url: '/sync', payload: body(parent) })).json<SyncResponse>().children
  const app = await testApp()
  t.teardown(() => app.close())
  for (const url of ['/sync', '/finalize']) {
    const b = body({ ...parent, spec: { replicas: 'two', storage: { size: '8Gi', sizzle: true } } }, observe(applied, 'example', { replicas: 1 }), url === '/finalize')
    const res = await app.inject({ method: 'POST', url, payload: b })
    t.equal(res.statusCode, 200, url)
    const json = res.json<SyncResponse & { finalized?: boolean }>()
    t.same(json.children.map((c) => `${c.kind}/${c.metadata.name}`), applied.map((c) => `${c.kind}/${c.metadata.name}`), `${url}: every child kept`)
    if (url === '/sync') {
      t.same(json.children, applied, 'sync: as last applied')
      const degraded = json.status.conditions.find((c) => c.type === 'Degraded')
      t.match(degraded, { status: 'True', reason: 'InvalidSpec', message: /parent\.spec\.replicas: Expected integer.*parent\.spec\.storage\.sizzle: Unexpected property/ })
    } else {
      t.equal(json.finalized, false, 'finalize: holds the finalizer while the pod runs, whatever the spec')
    }
  }
  t.equal(await helmStarts(app), 0)
})

t.test('a name at the 40-character limit renders objects whose names are all valid', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  const b = body(parentFrom('simple.yaml'))
  b.parent.metadata.name = `n${'-x'.repeat(19)}x`
  const res = await app.inject({ method: 'POST', url: '/sync', payload: b })
  t.equal(res.statusCode, 200)
  for (const child of res.json<SyncResponse>().children) {
    const name = child.metadata.name
    t.ok(name.length <= 63 && /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(name), `${child.kind} ${name}`)
    if (child.kind === 'StatefulSet') t.ok(name.length <= 52, 'room for the controller-revision-hash suffix')
  }
  b.parent.metadata.name = `n${'-x'.repeat(19)}xy`
  t.equal((await app.inject({ method: 'POST', url: '/sync', payload: b })).statusCode, 422)
})

const HOSTILE = ['"quoted" \'single\'', '{{ .Values.config }}', 'line\nbreak\ttab', '$(rm -rf /); `id`', '\u2028\u0085 ünïcødé 🚀', 'key: value\n- item', '--- \n...', '\\\\ back\\slash', '%s%d%n']

t.test('hostile strings in every free-text field come back as data, never as structure', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  for (const [i, hostile] of HOSTILE.entries()) {
    // TAP output is line-based: name each case by its index, never by its hostile text.
    const name = `hostile string #${i}`
    const b = body(parentFrom('simple.yaml'))
    b.parent.metadata.labels = { x: hostile }
    b.parent.spec = {
      externalLabels: { team: hostile },
      nodeSelector: { 'example.com/zone': hostile },
      tolerations: [{ key: 'k', operator: 'Equal', value: hostile, effect: 'NoSchedule' }],
      remoteWrite: [{ url: `https://example.com/${encodeURIComponent(hostile)}`, headers: { 'X-Hostile': hostile } }],
      rules: { groups: [{ name: hostile, rules: [{ alert: hostile, expr: 'up == 0', labels: { severity: hostile }, annotations: { summary: hostile } }] }] }
    }
    const res = await app.inject({ method: 'POST', url: '/sync', payload: b })
    t.not(res.statusCode, 500, name)
    if (res.statusCode !== 200) continue
    const out = res.json<SyncResponse>()
    const sts = out.children.find((c) => c.kind === 'StatefulSet') as { spec: { template: { spec: { nodeSelector: Record<string, string>; tolerations: { value: string }[] } } } } | undefined
    if (!sts) {
      t.match(out.status.conditions, [{}, {}, { type: 'Degraded', status: 'True', reason: 'InvalidConfiguration' }], `${name}: no children only when the status says why`)
      continue
    }
    t.equal(sts.spec.template.spec.nodeSelector['example.com/zone'], hostile, `${name}: nodeSelector value round-trips`)
    t.equal(sts.spec.template.spec.tolerations[0]?.value, hostile, `${name}: toleration value round-trips`)
    const cm = out.children.find((c) => c.kind === 'ConfigMap') as (KubeObject & { data: Record<string, string> }) | undefined
    const docs = parseAllDocuments(cm?.data['prometheus.yml'] ?? '')
    t.equal(docs.length, 1, `${name}: prometheus.yml stays one document`)
    t.same((docs[0]?.toJS() as { global: { external_labels: Record<string, string> } }).global.external_labels, { team: hostile }, `${name}: external label round-trips`)
  }
})
