// Every example, applied as a user would to a real kube-apiserver with the real Metacontroller:
// each becomes Ready, and what the spec asks for (placement, pod metadata, external URL) is on the
// StatefulSet the API server stored.
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { ROOT } from '../helpers/env.js'
import { startCluster } from '../../harness/cluster.js'
import { startController } from '../../harness/controller.js'
import { waitFor } from '../../harness/lib/wait.js'

type Obj = { metadata: { name: string; namespace?: string }; spec?: Record<string, unknown>; status?: { conditions?: { type: string; status: string }[] } }

const cluster = await startCluster({ metacontroller: 'required', persistentVolumes: 16 })
const closers: (() => Promise<void>)[] = [() => cluster.stop()]
t.teardown(async () => {
  for (const close of closers.reverse()) await close()
})
await startController(cluster, closers)

const k = (...args: string[]) => cluster.kubectlOk(args)
const getJson = async <T = Obj>(...args: string[]): Promise<T> => JSON.parse(await k('get', ...args, '-o', 'json')) as T


// What full.yaml refers to: a PriorityClass (pods naming a missing one are refused) and Secrets.
await cluster.apply([{ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'monitoring' }, value: 1000 }])
const FULL_SECRETS: Record<string, Record<string, string>> = {
  'registry-credentials': { '.dockerconfigjson': '{"auths":{}}' },
  'mimir-credentials': { token: 'secret-token-value' },
  'alertmanager-credentials': { username: 'prometheus', password: 'secret-password-value', 'ca.crt': 'not a real CA' },
  'node-exporter-auth': { password: 'secret-node-password' }
}

const examples = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.yaml')).sort()

t.test('every example applies as it is and becomes Ready', async (t) => {
  for (const example of examples) {
    const ns = `ex-${example.replace(/\.yaml$/, '')}`
    await k('create', 'namespace', ns)
    if (example === 'full.yaml') {
      await cluster.apply(Object.entries(FULL_SECRETS).map(([name, data]) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, stringData: data })))
    }
    await k('apply', '-n', ns, '-f', join(ROOT, 'examples', example))
    const [name] = (await getJson<{ items: Obj[] }>('prometheusclusters', '-n', ns)).items.map((o) => o.metadata.name)
    await waitFor(`${example} Ready`, async () => (await getJson('prometheuscluster', name ?? '', '-n', ns)).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
    t.pass(`${example}: Ready`)
  }
})

/** StatefulSet updates the API server has served, from its own metrics. */
async function statefulSetUpdates(): Promise<number> {
  const text = await k('get', '--raw', '/metrics')
  let total = 0
  for (const m of text.matchAll(/^apiserver_request_total\{([^}]*)\} (\S+)$/gm)) {
    const labels = m[1] ?? ''
    if (labels.includes('resource="statefulsets"') && labels.includes('subresource=""') && /verb="(PUT|PATCH)"/.test(labels)) total += Number(m[2])
  }
  return total
}

t.test('resyncs of clusters that are as they should be write no StatefulSet', async (t) => {
  const before = await statefulSetUpdates()
  await new Promise((r) => setTimeout(r, 12_000)) // two resync periods of every example
  t.equal(await statefulSetUpdates(), before, 'no PUT or PATCH of a StatefulSet while nothing changed')
})

t.test('full.yaml: placement, pod metadata and the external URL are on the stored StatefulSet', async (t) => {
  type Pod = { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; spec: Record<string, unknown> & { containers: { args: string[] }[] } }
  const sts = await getJson<{ spec: { template: Pod } }>('statefulset', 'promcluster-full-prometheus', '-n', 'ex-full')
  const pod = sts.spec.template
  t.equal(pod.metadata.labels.team, 'platform')
  t.equal(pod.metadata.annotations['example.com/owner'], 'platform-team')
  t.equal(pod.spec.priorityClassName, 'monitoring')
  t.same(pod.spec.imagePullSecrets, [{ name: 'registry-credentials' }])
  t.match(pod.spec.topologySpreadConstraints, [{ topologyKey: 'topology.kubernetes.io/zone', labelSelector: { matchLabels: { 'app.kubernetes.io/instance': 'full-prometheus' } } }])
  t.match(pod.spec.affinity, { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ podAffinityTerm: { topologyKey: 'kubernetes.io/hostname' } }] } })
  t.ok(pod.spec.containers[0]?.args.includes('--web.external-url=https://prometheus.example.com/full/'))
  const pods = await getJson<{ items: { spec: { priority?: number } }[] }>('pods', '-n', 'ex-full', '-l', 'app.kubernetes.io/instance=full-prometheus')
  t.same(pods.items.map((p) => p.spec.priority), [1000, 1000], 'the pods run with the PriorityClass')
})

t.test('full.yaml: credentials stay in their Secrets, mounted in the pods and read by file', async (t) => {
  const sts = await getJson<{ spec: { template: { spec: { volumes: { secret?: { secretName: string } }[] } } } }>('statefulset', 'promcluster-full-prometheus', '-n', 'ex-full')
  t.same(sts.spec.template.spec.volumes.flatMap((v) => (v.secret ? [v.secret.secretName] : [])), ['alertmanager-credentials', 'mimir-credentials', 'node-exporter-auth'])
  const cm = await getJson<{ data: Record<string, string> }>('configmap', 'promcluster-full-prometheus-config', '-n', 'ex-full')
  t.match(cm.data['prometheus.yml'], /credentials_file: \/etc\/prometheus\/secrets\/mimir-credentials\/token/)
  const everything = await k('get', 'prometheusclusters,configmaps,statefulsets', '-n', 'ex-full', '-o', 'json')
  for (const value of Object.values(FULL_SECRETS).flatMap((d) => Object.values(d)).filter((v) => v.startsWith('secret-'))) t.notOk(everything.includes(value), 'no secret value outside its Secret')
  const role = await getJson<{ rules: { resources: string[] }[] }>('role', 'promcluster-full-prometheus', '-n', 'ex-full')
  t.notOk(role.rules.some((r) => r.resources.includes('secrets')), 'the servers\' Role reads no Secrets')
})

t.test('the API server refuses pod labels that are the controller\'s, naming the field', async (t) => {
  const bad = { apiVersion: 'relaxdiego.com/v1alpha1', kind: 'PrometheusCluster', metadata: { name: 'relabel', namespace: 'ex-full' }, spec: { podMetadata: { labels: { 'app.kubernetes.io/instance': 'other' } } } }
  const result = await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(bad) })
  t.not(result.code, 0)
  t.match(result.stderr, /podMetadata\.labels cannot set/)
})
