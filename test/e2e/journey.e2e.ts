// The seed's whole journey against a real kube-apiserver, kube-controller-manager, kube-scheduler,
// kwok and Metacontroller, with the hook started from this checkout (make e2e). Every assertion is
// on the API server's real objects.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { parse, stringify } from 'yaml'
import { ROOT } from '../helpers/env.js'
import { startCluster } from '../../harness/cluster.js'
import { freePort, hookCertificates, installController, startHook, type Hook } from '../../harness/controller.js'
import { startProxy, type Proxy } from '../../harness/proxy.js'
import { watch } from '../../harness/lib/watch.js'
import { waitFor } from '../../harness/lib/wait.js'

type Obj = { metadata: { name: string; uid: string; namespace?: string; deletionTimestamp?: string; generation?: number }; spec?: Record<string, unknown>; status?: Record<string, unknown> } & Record<string, unknown>
type List = { items: Obj[] }

const cluster = await startCluster({ metacontroller: 'required' })
const work = await mkdtemp(join(tmpdir(), 'pcc-e2e-'))
const certificates = await hookCertificates()
let hooks: Hook[] = []

// Stops whatever was started, also when the set-up below fails half-way.
const closers: (() => Promise<void>)[] = [() => cluster.stop(), () => rm(work, { recursive: true, force: true }), () => certificates.remove()]
t.teardown(async () => {
  await Promise.all(hooks.map((h) => h.stop(2000)))
  for (const close of closers.reverse()) await close()
})

async function k(...args: string[]): Promise<string> {
  const r = await cluster.kubectl(args)
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
  return r.stdout
}
const kTry = (...args: string[]) => cluster.kubectl(args)
const getJson = async <T = Obj>(...args: string[]): Promise<T> => JSON.parse(await k('get', ...args, '-o', 'json')) as T

async function applyObject(object: unknown, namespace?: string): Promise<{ code: number | null; stderr: string }> {
  const file = join(work, `obj-${Date.now()}-${Math.random().toString(36).slice(2)}.yaml`)
  await writeFile(file, stringify(object))
  return kTry('apply', ...(namespace ? ['-n', namespace] : []), '-f', file)
}


const example = async (file: string) => parse(await readFile(join(ROOT, 'examples', file), 'utf8')) as Obj
const prom = (ns: string, name: string) => getJson('prometheuscluster', name, '-n', ns)
const condition = (o: Obj, type: string) => (o.status?.conditions as { type: string; status: string; reason: string }[] | undefined)?.find((c) => c.type === type)
const readyPods = async (ns: string, name: string) =>
  (await getJson<List>('pods', '-n', ns, '-l', `app.kubernetes.io/instance=${name}`)).items.filter((p) =>
    ((p.status?.conditions ?? []) as { type: string; status: string }[]).some((c) => c.type === 'Ready' && c.status === 'True')
  )
const claims = async (ns: string, name: string) => (await getJson<List>('pvc', '-n', ns, '-l', `app.kubernetes.io/instance=${name}`)).items

async function waitReady(ns: string, name: string, replicas: number): Promise<Obj> {
  return waitFor(`${ns}/${name} Ready with ${replicas} replicas`, async () => {
    const p = await prom(ns, name)
    const ready = condition(p, 'Ready')
    return p.status?.readyReplicas === replicas && ready?.status === 'True' && (await readyPods(ns, name)).length === replicas && p
  })
}

// Each hook keeps its two ports across restarts: hooks (mutual TLS) and ops (probes, metrics).
const opsPorts = new Map<number, number>()
async function hookAt(port: number): Promise<Hook> {
  if (!opsPorts.has(port)) opsPorts.set(port, await freePort())
  const hook = await startHook(certificates, port, opsPorts.get(port) ?? 0)
  hooks.push(hook)
  return hook
}

// Two hooks behind a proxy that stands in for the hook's Service.
const ports = [await freePort(), await freePort()]
await Promise.all(ports.map((p) => hookAt(p)))
const proxy: Proxy = await startProxy(ports)
closers.push(() => proxy.close())
await installController(cluster, certificates, `https://${proxy.address}`)
for (const ns of ['example', 'other']) await k('create', 'namespace', ns)

t.test('1. spec {} gives the children, Ready pods on the fake node, a Ready status and printer columns', async (t) => {
  await k('apply', '-n', 'example', '-f', join(ROOT, 'examples', 'simple.yaml'))
  const p = await waitReady('example', 'simple-prometheus-instance', 1)
  t.equal(p.status?.readyReplicas, 1)
  const base = 'promcluster-simple-prometheus-instance'
  for (const [kind, name] of [['statefulset', base], ['service', base], ['service', `${base}-headless`], ['configmap', `${base}-config`], ['serviceaccount', base], ['role', base], ['rolebinding', base]]) {
    t.equal((await getJson(kind ?? '', name ?? '', '-n', 'example')).metadata.name, name, `${kind} ${name}`)
  }
  t.equal((await claims('example', 'simple-prometheus-instance'))[0]?.status?.phase, 'Bound')
  const table = await k('get', 'promcluster', '-n', 'example')
  t.match(table, /NAME\s+REPLICAS\s+READY\s+VERSION\s+STATUS\s+AGE/)
  t.match(table, /simple-prometheus-instance\s+1\s+1\s+v3\.\d+\.\d+\s+True/)
})

t.test('2. scaling by editing replicas and by kubectl scale: pods and status follow', async (t) => {
  await k('patch', 'prometheuscluster', 'simple-prometheus-instance', '-n', 'example', '--type=merge', '-p', '{"spec":{"replicas":3}}')
  await waitReady('example', 'simple-prometheus-instance', 3)
  t.ok(await getJson('pdb', 'promcluster-simple-prometheus-instance', '-n', 'example'), 'a PodDisruptionBudget above one replica')
  await k('scale', 'prometheuscluster/simple-prometheus-instance', '-n', 'example', '--replicas=1')
  await waitReady('example', 'simple-prometheus-instance', 1)
  t.equal((await kTry('get', 'pdb', 'promcluster-simple-prometheus-instance', '-n', 'example')).code, 1, 'the PodDisruptionBudget goes back')
  t.equal((await claims('example', 'simple-prometheus-instance')).length, 3, 'scaled-down replicas keep their claims (whenScaled: Retain)')
})

t.test('3. a configuration change reaches the ConfigMap the servers reload, without restarting them', async (t) => {
  const before = (await readyPods('example', 'simple-prometheus-instance')).map((p) => p.metadata.uid)
  await k('patch', 'prometheuscluster', 'simple-prometheus-instance', '-n', 'example', '--type=merge', '-p', '{"spec":{"scrapeInterval":"15s"}}')
  await waitFor('the new scrape interval in the ConfigMap', async () => {
    const cm = await getJson<Obj & { data: Record<string, string> }>('configmap', 'promcluster-simple-prometheus-instance-config', '-n', 'example')
    return /scrape_interval: 15s/.test(cm.data['prometheus.yml'] ?? '')
  })
  t.same((await readyPods('example', 'simple-prometheus-instance')).map((p) => p.metadata.uid), before, 'same pods: Prometheus reloads the file itself')
  await k('patch', 'prometheuscluster', 'simple-prometheus-instance', '-n', 'example', '--type=merge', '-p', '{"spec":{"scrapeInterval":"banana"}}').then(
    () => t.fail('an invalid duration must be refused'),
    (error: unknown) => t.match(String(error), /spec\.scrapeInterval/)
  )
})

let claimUids: string[] = []

t.test('4. deleting the resource scales its StatefulSet to zero and waits for its pods before the children go; the claims stay Bound', async (t) => {
  const ns = 'example'
  const name = 'simple-prometheus-instance'
  const sts = `promcluster-${name}`
  claimUids = (await claims(ns, name)).map((c) => c.metadata.uid).sort()
  t.equal(claimUids.length, 3)
  // Watches from a list's resourceVersion, started before the delete: every write from here on is
  // seen, however quickly the next one follows. Revisions order writes across the three watches.
  const parents = await watch(cluster, `/apis/relaxdiego.com/v1alpha1/namespaces/${ns}/prometheusclusters`, { fieldSelector: `metadata.name=${name}` })
  const statefulSets = await watch(cluster, `/apis/apps/v1/namespaces/${ns}/statefulsets`, { fieldSelector: `metadata.name=${sts}` })
  const pods = await watch(cluster, `/api/v1/namespaces/${ns}/pods`, { labelSelector: `app.kubernetes.io/instance=${name}` })
  t.teardown(() => [parents, statefulSets, pods].forEach((w) => w.stop()))
  t.equal(statefulSets.initial[0]?.spec?.replicas, 1, 'one replica before the delete')
  const podNames = pods.initial.map((p) => p.metadata.name)
  t.same(podNames, [`${sts}-0`], 'its one pod before the delete')

  await k('delete', 'prometheuscluster', name, '-n', ns, '--wait=false')
  const stsGone = await statefulSets.until('the StatefulSet deleted', (e) => e.type === 'DELETED')
  const parentGone = await parents.until('the PrometheusCluster deleted', (e) => e.type === 'DELETED', 1000)
  const marked = await parents.until('the PrometheusCluster marked for deletion', (e) => e.object.metadata.deletionTimestamp !== undefined, 1000)
  const scaledDown = statefulSets.events.find((e) => e.type === 'MODIFIED' && e.object.spec?.replicas === 0)
  t.ok(scaledDown, 'the StatefulSet was scaled to zero replicas', { replicas: statefulSets.events.map((e) => `${e.type} ${String(e.object.spec?.replicas)} @${String(e.revision)}`) })
  if (scaledDown) {
    t.ok(marked.revision < scaledDown.revision && scaledDown.revision < parentGone.revision, 'while the finalizer held the deleted resource', { marked: marked.revision, scaledDown: scaledDown.revision, parentGone: parentGone.revision })
  }
  for (const pod of podNames) {
    const podGone = pods.events.find((e) => e.type === 'DELETED' && e.object.metadata.name === pod)
    t.ok(podGone, `pod ${pod} was deleted`)
    if (podGone) t.ok(podGone.revision < parentGone.revision && podGone.revision < stsGone.revision, `pod ${pod} was gone before the finalizer was released and the StatefulSet deleted`, { podGone: podGone.revision, parentGone: parentGone.revision, stsGone: stsGone.revision })
  }
  t.same(await readyPods(ns, name), [])
  const kept = await claims(ns, name)
  t.same(kept.map((c) => c.metadata.uid).sort(), claimUids)
  for (const c of kept) t.equal(c.status?.phase, 'Bound', c.metadata.name)
})

t.test('5. re-created with the same name, the pods use the same claims', async (t) => {
  const resource = await example('simple.yaml')
  resource.spec = { replicas: 3 }
  await applyObject(resource, 'example')
  await waitReady('example', 'simple-prometheus-instance', 3)
  t.same((await claims('example', 'simple-prometheus-instance')).map((c) => c.metadata.uid).sort(), claimUids)
  const pods = await readyPods('example', 'simple-prometheus-instance')
  const used = pods.flatMap((p) => ((p.spec?.volumes ?? []) as { persistentVolumeClaim?: { claimName: string } }[]).flatMap((v) => (v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : []))).sort()
  t.same(used, ['data-promcluster-simple-prometheus-instance-0', 'data-promcluster-simple-prometheus-instance-1', 'data-promcluster-simple-prometheus-instance-2'])
})

t.test('6. a resource whose spec asks to delete its volumes loses them when deleted', async (t) => {
  await applyObject({ apiVersion: 'relaxdiego.com/v1alpha1', kind: 'PrometheusCluster', metadata: { name: 'ephemeral' }, spec: { storage: { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete' } } } }, 'example')
  await waitReady('example', 'ephemeral', 1)
  t.equal((await claims('example', 'ephemeral')).length, 1)
  await k('delete', 'prometheuscluster', 'ephemeral', '-n', 'example', '--timeout=120s')
  await waitFor('the claims to be deleted', async () => (await claims('example', 'ephemeral')).length === 0)
  t.pass('claims gone')
})

t.test('7. an invalid spec is rejected by the API server, naming the field', async (t) => {
  const bad = await applyObject({ apiVersion: 'relaxdiego.com/v1alpha1', kind: 'PrometheusCluster', metadata: { name: 'bad' }, spec: { replicas: -1 } }, 'example')
  t.not(bad.code, 0)
  t.match(bad.stderr, /spec\.replicas/)
  const long = await applyObject({ apiVersion: 'relaxdiego.com/v1alpha1', kind: 'PrometheusCluster', metadata: { name: 'a'.repeat(42) }, spec: {} }, 'example')
  t.not(long.code, 0)
  t.match(long.stderr, /metadata\.name/)
  const both = await applyObject({ apiVersion: 'relaxdiego.com/v1alpha1', kind: 'PrometheusCluster', metadata: { name: 'both' }, spec: { config: 'global: {}\n', scrapeInterval: '10s' } }, 'example')
  t.not(both.code, 0)
  t.match(both.stderr, /config is a complete prometheus\.yml/)
})

t.test('8. with every hook stopped nothing is deleted or changed; when they return, pending changes apply', async (t) => {
  await Promise.all(hooks.map((h) => h.stop()))
  hooks = []
  const stsBefore = await getJson('statefulset', 'promcluster-simple-prometheus-instance', '-n', 'example')
  await k('patch', 'prometheuscluster', 'simple-prometheus-instance', '-n', 'example', '--type=merge', '-p', '{"spec":{"replicas":2}}')
  await new Promise((r) => setTimeout(r, 15_000))
  const stsDuring = await getJson('statefulset', 'promcluster-simple-prometheus-instance', '-n', 'example')
  t.equal(stsDuring.metadata.uid, stsBefore.metadata.uid)
  t.equal(stsDuring.spec?.replicas, 3, 'unchanged while no hook answers')
  t.equal((await readyPods('example', 'simple-prometheus-instance')).length, 3)
  await Promise.all(ports.map((p) => hookAt(p)))
  await waitReady('example', 'simple-prometheus-instance', 2)
  t.pass('the pending scale-down applied')
})

t.test('9. two hooks behind one address: killing one during a burst of changes loses no update', async (t) => {
  const [first] = hooks
  for (let i = 0; i < 20; i++) {
    await k('patch', 'prometheuscluster', 'simple-prometheus-instance', '-n', 'example', '--type=merge', '-p', JSON.stringify({ spec: { externalLabels: { burst: String(i) } } }))
    if (i === 5) first?.child.kill('SIGKILL')
  }
  await waitFor('the last change in the ConfigMap', async () => {
    const cm = await getJson<Obj & { data: Record<string, string> }>('configmap', 'promcluster-simple-prometheus-instance-config', '-n', 'example')
    return /burst: "19"/.test(cm.data['prometheus.yml'] ?? '')
  })
  const p = await prom('example', 'simple-prometheus-instance')
  t.equal(condition(p, 'Degraded')?.status, 'False')
  t.equal((await readyPods('example', 'simple-prometheus-instance')).length, 2)
})

t.test('10. two clusters in one namespace and one name in two namespaces do not interfere', async (t) => {
  await applyObject({ apiVersion: 'relaxdiego.com/v1alpha1', kind: 'PrometheusCluster', metadata: { name: 'second' }, spec: {} }, 'example')
  await applyObject({ apiVersion: 'relaxdiego.com/v1alpha1', kind: 'PrometheusCluster', metadata: { name: 'simple-prometheus-instance' }, spec: {} }, 'other')
  await waitReady('example', 'second', 1)
  await waitReady('other', 'simple-prometheus-instance', 1)
  t.equal((await readyPods('example', 'simple-prometheus-instance')).length, 2, 'the first cluster keeps its 2 pods')
  t.equal((await claims('other', 'simple-prometheus-instance')).length, 1)
  await k('delete', 'prometheuscluster', 'second', '-n', 'example', '--timeout=120s')
  t.equal((await readyPods('example', 'simple-prometheus-instance')).length, 2, 'deleting a neighbour leaves it alone')
  t.equal((await readyPods('other', 'simple-prometheus-instance')).length, 1)
})

t.test('11. make uninstall removes the controller and keeps the CRD, the resources and the claims', async (t) => {
  const { execFile } = await import('node:child_process')
  const result = await new Promise<{ code: number; out: string }>((resolve) => {
    execFile('make', ['uninstall', `KUBECTL=${cluster.kubectlPath} --kubeconfig=${cluster.kubeconfig}`], { cwd: ROOT }, (error, stdout, stderr) => resolve({ code: error ? 1 : 0, out: stdout + stderr }))
  })
  t.equal(result.code, 0, 'make uninstall exits 0')
  if (result.code !== 0) t.comment(result.out)
  t.not((await kTry('get', 'compositecontroller', 'prometheus-cluster-controller')).code, 0, 'the CompositeController is gone')
  t.equal((await kTry('get', 'crd', 'prometheusclusters.relaxdiego.com')).code, 0, 'the CRD stays')
  t.ok((await claims('example', 'simple-prometheus-instance')).length >= 2, 'the claims stay')
  t.equal((await kTry('get', 'prometheuscluster', 'simple-prometheus-instance', '-n', 'example')).code, 0, 'the resource stays')
})
