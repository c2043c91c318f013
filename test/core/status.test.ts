import t from 'tap'
import { Value } from '@sinclair/typebox/value'
import { PrometheusClusterSpec } from '../../src/api/spec.js'
import { clusterStatus, type ObservedStatefulSet, type StatusInput } from '../../src/core/status.js'

const spec = (s: Record<string, unknown> = {}) => Value.Default(PrometheusClusterSpec, s) as PrometheusClusterSpec
const IMAGE = 'quay.io/prometheus/prometheus:v3.13.5'

function sts(replicas: number, status: ObservedStatefulSet['status'], generation = 2, image = IMAGE): ObservedStatefulSet {
  return { metadata: { generation }, spec: { replicas, template: { spec: { containers: [{ name: 'prometheus', image }] } } }, status: { observedGeneration: generation, currentRevision: 'r1', updateRevision: 'r1', ...status } }
}

function input(over: Partial<StatusInput>): StatusInput {
  return { name: 'demo', generation: 3, spec: spec(), previousConditions: [], statefulSet: undefined, mode: 'sync', now: '2026-01-01T00:00:00Z', promtool: 'promtool 3.13.5', ...over }
}

const byType = (s: ReturnType<typeof clusterStatus>) => Object.fromEntries(s.conditions.map((c) => [c.type, c]))

t.test('no StatefulSet yet: creating, not ready, not degraded', async (t) => {
  const s = clusterStatus(input({}))
  const c = byType(s)
  t.match(c, { Ready: { status: 'False', reason: 'Creating' }, Progressing: { status: 'True', reason: 'Creating' }, Degraded: { status: 'False' } })
  t.equal(s.selector, 'app.kubernetes.io/name=prometheus-cluster,app.kubernetes.io/instance=demo')
  t.equal(s.version, 'v3.13.5')
  t.equal(s.image, IMAGE)
  t.equal(s.promtool, 'promtool 3.13.5', 'which promtool checks the configuration')
  t.same([s.replicas, s.readyReplicas], [0, 0])
  for (const condition of s.conditions) t.equal(condition.observedGeneration, 3)
})

t.test('every replica ready and current: Ready, rollout complete', async (t) => {
  const s = clusterStatus(input({ statefulSet: sts(1, { replicas: 1, readyReplicas: 1, updatedReplicas: 1 }) }))
  t.match(byType(s), { Ready: { status: 'True', reason: 'AllReplicasReady' }, Progressing: { status: 'False', reason: 'RolloutComplete' } })
  t.same([s.replicas, s.readyReplicas, s.updatedReplicas], [1, 1, 1])
})

t.test('replicas changed in the spec but not yet in the StatefulSet: scaling', async (t) => {
  const s = clusterStatus(input({ spec: spec({ replicas: 3 }), statefulSet: sts(1, { replicas: 1, readyReplicas: 1, updatedReplicas: 1 }) }))
  t.match(byType(s), { Ready: { status: 'False', reason: 'ReplicasNotReady', message: '1 of 3 replicas are ready.' }, Progressing: { status: 'True', reason: 'Scaling' } })
})

t.test('a StatefulSet the controller has not observed yet is not ready', async (t) => {
  const observed = sts(1, { replicas: 1, readyReplicas: 1, updatedReplicas: 1, observedGeneration: 1 }, 2)
  t.match(byType(clusterStatus(input({ statefulSet: observed }))), { Ready: { status: 'False' }, Progressing: { status: 'True' } })
})

t.test('a new image rolling out: progressing until every pod runs it', async (t) => {
  const rolling = sts(2, { replicas: 2, readyReplicas: 2, updatedReplicas: 1, currentRevision: 'r1', updateRevision: 'r2' })
  t.match(byType(clusterStatus(input({ spec: spec({ replicas: 2 }), statefulSet: rolling }))), { Ready: { status: 'False' }, Progressing: { status: 'True', reason: 'RollingUpdate' } })
  const oldImage = sts(1, { replicas: 1, readyReplicas: 1, updatedReplicas: 1 }, 2, 'quay.io/prometheus/prometheus:v3.0.0')
  const s = clusterStatus(input({ statefulSet: oldImage }))
  t.match(byType(s), { Progressing: { status: 'True' } })
  t.equal(s.image, 'quay.io/prometheus/prometheus:v3.0.0', 'status.image is what the StatefulSet runs')
})

t.test('replicas 0: ready once every pod is gone', async (t) => {
  const s = clusterStatus(input({ spec: spec({ replicas: 0 }), statefulSet: sts(0, { replicas: 0, readyReplicas: 0 }) }))
  t.match(byType(s), { Ready: { status: 'True', reason: 'ScaledToZero' }, Progressing: { status: 'False' } })
})

t.test('a problem makes the cluster Degraded with the code as reason, and keeps the rollout view', async (t) => {
  const s = clusterStatus(input({ statefulSet: sts(1, { replicas: 1, readyReplicas: 1, updatedReplicas: 1 }), problem: { code: 'InvalidConfiguration', message: 'promtool rejected the configuration: bad.' } }))
  t.match(byType(s), { Ready: { status: 'True' }, Degraded: { status: 'True', reason: 'InvalidConfiguration', message: /promtool rejected the configuration: bad\. The running servers keep their last applied configuration\./ } })
})

t.test('paused: progressing False with reason Paused', async (t) => {
  t.match(byType(clusterStatus(input({ mode: 'paused', statefulSet: sts(1, { replicas: 1, readyReplicas: 1, updatedReplicas: 1 }) }))), { Progressing: { status: 'False', reason: 'Paused' } })
})

t.test('finalizing: terminating until the pods are gone', async (t) => {
  t.match(byType(clusterStatus(input({ mode: 'finalizing', statefulSet: sts(1, { replicas: 1, readyReplicas: 1 }) }))), { Ready: { status: 'False', reason: 'Terminating' }, Progressing: { status: 'True', reason: 'Terminating' } })
  t.match(byType(clusterStatus(input({ mode: 'finalizing', statefulSet: sts(0, { replicas: 0 }) }))), { Progressing: { status: 'False', reason: 'Terminated' } })
})

t.test('lastTransitionTime changes only with the status, so a recomputed status is byte-identical', async (t) => {
  const first = clusterStatus(input({ now: '2026-01-01T00:00:00Z' }))
  const again = clusterStatus(input({ now: '2026-01-01T00:05:00Z', previousConditions: first.conditions }))
  t.same(again, first)
  const ready = clusterStatus(input({ now: '2026-01-01T00:10:00Z', previousConditions: first.conditions, statefulSet: sts(1, { replicas: 1, readyReplicas: 1, updatedReplicas: 1 }) }))
  const c = byType(ready)
  t.equal(c.Ready?.lastTransitionTime, '2026-01-01T00:10:00Z', 'Ready flipped')
  t.equal(c.Degraded?.lastTransitionTime, '2026-01-01T00:00:00Z', 'Degraded did not')
})
