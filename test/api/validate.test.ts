import t from 'tap'
import { validateHookRequest } from '../../src/api/validate.js'
import { body, parentFrom } from '../helpers/requests.js'

const simple = () => body(parentFrom('simple.yaml'))

t.test('spec {} is valid and gains its defaults', async (t) => {
  const result = validateHookRequest(simple())
  t.ok(result.ok && result.spec.ok)
  if (result.ok) t.match(result.request.parent.spec, { replicas: 1, version: /^v3\./, retention: '15d', storage: { size: '8Gi', persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' } } })
})

t.test('a missing spec is treated as {} (the CRD defaults it so)', async (t) => {
  const b = simple() as unknown as { parent: Record<string, unknown> }
  delete b.parent.spec
  const result = validateHookRequest(b)
  t.ok(result.ok && result.spec.ok)
})

// A spec the hook cannot accept is the resource's problem, answered in its status; the envelope is
// Metacontroller's contract, and a body that breaks it is refused.
const specCases: [string, (b: ReturnType<typeof simple>) => void, RegExp][] = [
  ['replicas of the wrong type', (b) => (b.parent.spec.replicas = 'three'), /^parent\.spec\.replicas: Expected integer/],
  ['negative replicas', (b) => (b.parent.spec.replicas = -1), /^parent\.spec\.replicas: Expected integer to be greater or equal to 0/],
  ['an unknown spec field', (b) => (b.parent.spec.replicaz = 2), /parent\.spec\.replicaz: Unexpected property/],
  ['a bad duration', (b) => (b.parent.spec.retention = '15 days'), /^parent\.spec\.retention: Expected string to match/],
  ['a bad storage size', (b) => (b.parent.spec.storage = { size: 'lots' }), /^parent\.spec\.storage\.size/],
  ['a bad external label name', (b) => (b.parent.spec.externalLabels = { 'bad-name': 'x' }), /^parent\.spec\.externalLabels/],
  ['a rule group without rules', (b) => (b.parent.spec.rules = { groups: [{ name: 'g', rules: [] }] }), /^parent\.spec\.rules\.groups\[0\]\.rules: Expected array length to be greater or equal to 1/],
  ['a spec that is not an object', (b) => ((b.parent as Record<string, unknown>).spec = 'x'), /^parent\.spec: Expected object/]
]

for (const [name, mutate, expected] of specCases) {
  t.test(`a spec problem is reported with the field named, the envelope accepted: ${name}`, async (t) => {
    const b = simple()
    mutate(b)
    const result = validateHookRequest(b)
    t.ok(result.ok, 'the envelope is valid')
    if (!result.ok) return
    t.notOk(result.spec.ok)
    if (!result.spec.ok) {
      t.match(result.spec.errors[0] ? `${result.spec.errors[0].field}: ${result.spec.errors[0].message}` : '', expected)
      t.type(result.spec.view.replicas, 'number', 'the status can still read a cast view of the spec')
    }
  })
}

const cases: [string, (b: ReturnType<typeof simple>) => void, RegExp][] = [
  ['a name longer than 40 characters', (b) => (b.parent.metadata.name = 'a'.repeat(41)), /^parent\.metadata\.name: Expected string length less or equal to 40/],
  ['a name that is not a DNS label', (b) => (b.parent.metadata.name = 'Bad.Name'), /^parent\.metadata\.name: Expected string to match/],
  ['no namespace', (b) => delete b.parent.metadata.namespace, /^parent\.metadata\.namespace: Expected required property/],
  ['another kind of parent', (b) => (b.parent.kind = 'Deployment'), /^parent\.kind: Expected/],
  ['children that are not a map', (b) => ((b as unknown as Record<string, unknown>).children = []), /^children: Expected object/],
  ['a child without metadata', (b) => (b.children['ConfigMap.v1'] = { x: { apiVersion: 'v1', kind: 'ConfigMap' } as never }), /^children\.ConfigMap\.v1\.x\.metadata: Expected required property/]
]

for (const [name, mutate, expected] of cases) {
  t.test(`rejected with the field named: ${name}`, async (t) => {
    const b = simple()
    mutate(b)
    const result = validateHookRequest(b)
    t.notOk(result.ok)
    if (!result.ok) t.match(result.errors[0] ? `${result.errors[0].field}: ${result.errors[0].message}` : '', expected)
  })
}

t.test('a name of exactly 40 characters is accepted', async (t) => {
  const b = simple()
  b.parent.metadata.name = `a${'-b'.repeat(19)}b`
  t.equal((b.parent.metadata.name as string).length, 40)
  t.ok(validateHookRequest(b).ok)
})

t.test('bodies that are not objects are rejected, not thrown on', async (t) => {
  for (const b of [null, 1, 'x', [], {}, { parent: null }, { parent: [] }]) t.notOk(validateHookRequest(b).ok, JSON.stringify(b))
})

t.test('a spec nested deeper than any field allows is refused before anything walks it', async (t) => {
  let deep: unknown = 'bottom'
  for (let i = 0; i < 100_000; i++) deep = [deep]
  const result = validateHookRequest({ ...simple(), parent: { ...simple().parent, spec: { storage: { size: deep } } } })
  t.ok(result.ok, 'the envelope is valid')
  if (result.ok) t.match(result.spec, { ok: false, errors: [{ field: 'parent.spec', message: /nested deeper than 32 levels/ }] })
})

t.test('a map key holding a line terminator does not skip the check of its value', async (t) => {
  // TAP output is line-based: name each case by its index, never by the key.
  for (const [i, key] of ['a\nb', 'a\rb', '\u2028', '\u2029\u0085'].entries()) {
    const children = simple()
    children.children['ConfigMap.v1'] = { [key]: null as never }
    t.notOk(validateHookRequest(children).ok, `children, key #${i}`)
    const spec = simple()
    spec.parent.spec = { nodeSelector: { [key]: { not: 'a string' } } }
    const result = validateHookRequest(spec)
    t.ok(result.ok && !result.spec.ok, `spec.nodeSelector, key #${i}`)
  }
})

t.test('a parent namespace that is not a DNS label is refused (it would reach helm and every child)', async (t) => {
  for (const [i, namespace] of ['\ud800x', 'Team-A', 'a b', 'kube_system', '-a'].entries()) {
    const b = simple()
    b.parent.metadata.namespace = namespace
    const result = validateHookRequest(b)
    t.notOk(result.ok, `namespace #${i}`)
    if (!result.ok) t.match(result.errors[0]?.field, 'parent.metadata.namespace', `namespace #${i}`)
  }
})
