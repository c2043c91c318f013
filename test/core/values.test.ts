import t from 'tap'
import { Value } from '@sinclair/typebox/value'
import { PrometheusClusterSpec } from '../../src/api/spec.js'
import { validateSpec } from '../../src/api/validate.js'
import { chartValues, defaultPodAntiAffinity } from '../../src/core/values.js'

const spec = (s: Record<string, unknown> = {}) => Value.Default(PrometheusClusterSpec, structuredClone(s)) as PrometheusClusterSpec
const SELECTOR = { 'app.kubernetes.io/name': 'prometheus-cluster', 'app.kubernetes.io/instance': 'x' }

t.test('the servers prefer different nodes unless the spec says otherwise, keeping the rest of its affinity', async (t) => {
  t.same(chartValues('x', 'ns', spec()).affinity, { podAntiAffinity: defaultPodAntiAffinity('x') })
  t.same(defaultPodAntiAffinity('x'), {
    preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { labelSelector: { matchLabels: SELECTOR }, topologyKey: 'kubernetes.io/hostname' } }]
  })
  const own = { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: SELECTOR } }] }
  const nodeAffinity = { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } }
  t.same(chartValues('x', 'ns', spec({ affinity: { podAntiAffinity: own, nodeAffinity } })).affinity, { podAntiAffinity: own, nodeAffinity })
  t.same(chartValues('x', 'ns', spec({ affinity: { nodeAffinity } })).affinity, { nodeAffinity, podAntiAffinity: defaultPodAntiAffinity('x') })
})

t.test('topology spread constraints count the cluster\'s own pods', async (t) => {
  const values = chartValues('x', 'ns', spec({ topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone' }] }))
  t.same(values.topologySpreadConstraints, [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: SELECTOR } }])
})

t.test('pod metadata reaches the pods only, and never overrides the controller\'s labels', async (t) => {
  const values = chartValues('x', 'ns', spec({ podMetadata: { labels: { team: 'a', 'app.kubernetes.io/instance': 'other' }, annotations: { 'kubectl.kubernetes.io/default-container': 'sidecar', note: 'n' } } }))
  const pod = Object.fromEntries(values.labels.pod.map((l) => [l.name, l.value]))
  t.match(pod, { team: 'a', 'app.kubernetes.io/instance': 'x' })
  t.notOk(values.labels.common.some((l) => l.name === 'team'), 'the other objects do not get them')
  t.same(values.podAnnotations, { 'kubectl.kubernetes.io/default-container': 'sidecar', note: 'n' }, 'the spec may choose the default container')
  t.same(chartValues('x', 'ns', spec()).podAnnotations, { 'kubectl.kubernetes.io/default-container': 'prometheus' })
})

t.test('the new fields are checked with the field named', async (t) => {
  for (const [field, value] of [
    ['priorityClassName', 'Not_A_Name'],
    ['imagePullSecrets', [{ name: 'UPPER' }]],
    ['externalUrl', 'ftp://x'],
    ['topologySpreadConstraints', [{ maxSkew: 0, topologyKey: 'zone' }]],
    ['podMetadata', { labels: { 'bad key!': 'x' } }]
  ] as const) {
    const verdict = validateSpec({ [field]: value })
    t.notOk(verdict.ok, field)
    if (!verdict.ok) t.match(verdict.errors[0]?.field, `parent.spec.${field}`, field)
  }
  t.ok(validateSpec({ priorityClassName: 'monitoring', imagePullSecrets: [{ name: 'regcred' }], externalUrl: 'https://p.example.com/x/', podMetadata: { labels: { 'example.com/team': 'a' } } }).ok)
})
