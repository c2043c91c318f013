// The control plane itself works, without the hook or Metacontroller: a StatefulSet's pod becomes
// Ready on a kwok node with its claim Bound by the persistent volume binder, and the generated
// PrometheusCluster CRD (with its CEL rules) is accepted by a real kube-apiserver, which then rejects
// invalid resources with a message naming the field.
//   npx tap --disable-coverage --timeout=300 test/e2e/smoke.e2e.ts
// PCC_E2E_CRD points at another CRD file (default metacontroller/crd/crd.yaml).
import { join } from 'node:path'
import t from 'tap'
import { startCluster, type KubectlResult } from '../../harness/cluster.js'
import { ROOT } from '../../harness/root.js'


const crdFile = process.env.PCC_E2E_CRD || join(ROOT, 'metacontroller/crd/crd.yaml')
const namespace = 'smoke'

const cluster = await startCluster({ metacontroller: 'off' })
t.teardown(() => cluster.stop())

const kubectl = (...args: string[]): Promise<KubectlResult> => cluster.kubectl(args)
const k = (...args: string[]): Promise<string> => cluster.kubectlOk(args)

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${String(timeoutMs / 1000)}s waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

t.test('a StatefulSet pod becomes Ready on the fake node and its claim is Bound', async (t) => {
  await k('create', 'namespace', namespace)
  await cluster.apply([
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'web', namespace },
      spec: {
        replicas: 1,
        serviceName: 'web',
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [{
              name: 'web',
              image: 'registry.invalid/web:1',
              resources: { requests: { cpu: '100m', memory: '128Mi' } },
              volumeMounts: [{ name: 'data', mountPath: '/data' }]
            }]
          }
        },
        volumeClaimTemplates: [{
          metadata: { name: 'data' },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '8Gi' } } }
        }]
      }
    }
  ])
  await waitFor('pod web-0 Ready', async () => {
    const r = await kubectl('get', 'pod', 'web-0', '-n', namespace, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')
    return r.code === 0 && r.stdout === 'True'
  })
  const pod = JSON.parse(await k('get', 'pod', 'web-0', '-n', namespace, '-o', 'json')) as { spec: { nodeName: string }; status: { phase: string } }
  t.equal(pod.spec.nodeName, 'kwok-node-0', 'scheduled by kube-scheduler onto the kwok node')
  t.equal(pod.status.phase, 'Running', 'kwok moved it to Running')

  const claim = JSON.parse(await k('get', 'pvc', 'data-web-0', '-n', namespace, '-o', 'json')) as {
    spec: { storageClassName: string; volumeName: string }
    status: { phase: string }
  }
  t.equal(claim.status.phase, 'Bound', 'the persistent volume binder bound the claim')
  t.equal(claim.spec.storageClassName, 'standard', 'the default StorageClass was applied')
  t.match(claim.spec.volumeName, /^e2e-pv-\d{3}$/, 'to one of the pre-created hostPath volumes')
  t.equal(await k('get', 'statefulset', 'web', '-n', namespace, '-o', 'jsonpath={.status.readyReplicas}'), '1', 'the StatefulSet controller counts it ready')
})

let crdAccepted = false
t.test(`the PrometheusCluster CRD is accepted (${crdFile})`, async (t) => {
  const r = await kubectl('apply', '-f', crdFile)
  t.equal(r.code, 0, 'kube-apiserver accepts the CRD', { stderr: r.stderr.trim() })
  if (r.code !== 0) return
  await k('wait', '--for=condition=Established', '--timeout=60s', 'crd/prometheusclusters.relaxdiego.com')
  crdAccepted = true
  const served = await kubectl('get', 'prometheusclusters', '-n', namespace, '-o', 'name')
  t.same({ code: served.code, stdout: served.stdout }, { code: 0, stdout: '' }, 'the resource is served', { stderr: served.stderr })
})

t.test('invalid PrometheusClusters are rejected with a message naming the field', async (t) => {
  if (!crdAccepted) {
    t.fail('not run: the CRD was rejected (see the test above)')
    return
  }
  const prom = (name: string, spec: object): string =>
    JSON.stringify({ apiVersion: 'relaxdiego.com/v1alpha1', kind: 'PrometheusCluster', metadata: { name, namespace }, spec })
  const applyText = (text: string) => cluster.kubectl(['apply', '-f', '-'], { input: text })

  const negative = await applyText(prom('negative', { replicas: -1 }))
  t.not(negative.code, 0, 'replicas: -1 is rejected')
  t.match(negative.stderr, /spec\.replicas/, 'naming spec.replicas')

  const longName = 'a'.repeat(42)
  const long = await applyText(prom(longName, {}))
  t.not(long.code, 0, 'a 42-character name is rejected')
  t.match(long.stderr, /metadata\.name/, 'naming metadata.name')

  const valid = await applyText(prom('valid', {}))
  t.equal(valid.code, 0, 'spec: {} is accepted', { stderr: valid.stderr })
  const stored = JSON.parse(await k('get', 'prometheuscluster', 'valid', '-n', namespace, '-o', 'json')) as { spec: Record<string, unknown> }
  t.ok(Object.keys(stored.spec).length > 0, 'and defaulted by the API server', { spec: stored.spec })
})
