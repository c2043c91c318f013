// Tenants cannot reach beyond their namespace, and only Metacontroller can call the hook: against
// a real kube-apiserver and the real Metacontroller, a tenant bound only to the `edit` ClusterRole
// in its namespace (kubectl --as) tries what it can write; nothing appears outside the namespace,
// no RBAC object changes, the cluster's own children stay as they were.
import { request as httpsRequest } from 'node:https'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { ROOT } from '../helpers/env.js'
import { startCluster } from '../../harness/cluster.js'
import { freePort, hookCertificates, installController, startHook, type Hook } from '../../harness/controller.js'
import { waitFor } from '../../harness/lib/wait.js'

type Obj = { kind?: string; metadata: { name: string; uid: string; namespace?: string; resourceVersion?: string }; spec?: Record<string, unknown>; status?: Record<string, unknown> } & Record<string, unknown>
type List = { items: Obj[] }

const NS = 'team-a'
const TENANT = ['--as=tenant']
const LAST_APPLIED = 'metacontroller.k8s.io/last-applied-configuration'

const cluster = await startCluster({ metacontroller: 'required' })
const certificates = await hookCertificates()
const strangers = await hookCertificates()
// Stops whatever was started, also when the set-up below fails half-way.
const closers: (() => Promise<void>)[] = [() => cluster.stop(), () => certificates.remove(), () => strangers.remove()]
t.teardown(async () => {
  for (const close of closers.reverse()) await close()
})

const k = (...args: string[]) => cluster.kubectlOk(args)
const kTry = (...args: string[]) => cluster.kubectl(args)
const getJson = async <T = Obj>(...args: string[]): Promise<T> => JSON.parse(await k('get', ...args, '-o', 'json')) as T
const asTenant = (...args: string[]) => cluster.kubectl([...TENANT, ...args])


const condition = (o: Obj, type: string) => (o.status?.conditions as { type: string; status: string; reason: string }[] | undefined)?.find((c) => c.type === type)
const waitCondition = (name: string, type: string, reason: string) =>
  waitFor(`${name}: ${type} ${reason}`, async () => {
    const p = await getJson('prometheuscluster', name, '-n', NS)
    return condition(p, type)?.reason === reason && p.status?.observedGeneration === (p.metadata as { generation?: number }).generation && p
  })
const waitReady = (name: string) =>
  waitFor(`${name} Ready`, async () => {
    const p = await getJson('prometheuscluster', name, '-n', NS)
    return condition(p, 'Ready')?.status === 'True' && p
  })
const claims = async (name: string) => (await getJson<List>('pvc', '-n', NS, '-l', `app.kubernetes.io/instance=${name}`)).items
const resource = (name: string, spec: Record<string, unknown>) => JSON.stringify({ apiVersion: 'relaxdiego.com/v1alpha1', kind: 'PrometheusCluster', metadata: { name, namespace: NS }, spec })

/** Every RBAC binding and namespaced role in the cluster, by name and resourceVersion. */
async function rbacSnapshot(): Promise<string[]> {
  const list = await getJson<List>('roles,rolebindings,clusterrolebindings', '-A')
  return list.items.map((o) => `${String(o.kind)}/${o.metadata.namespace ?? ''}/${o.metadata.name}@${o.metadata.resourceVersion ?? ''}`).sort()
}

/** An HTTPS POST to the hook; resolves to the status code, rejects when no answer comes. */
function post(url: string, tls: { ca: Buffer; cert?: Buffer; key?: Buffer }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${url}/finalize`, { method: 'POST', ...tls, headers: { 'content-type': 'application/json' }, timeout: 5000 }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end(JSON.stringify({ parent: { apiVersion: 'relaxdiego.com/v1alpha1', kind: 'PrometheusCluster', metadata: { name: 'x', namespace: NS }, spec: {} }, children: {}, finalizing: true }))
  })
}

const hook: Hook = await startHook(certificates, await freePort(), await freePort())
closers.push(() => hook.stop(2000))
await installController(cluster, certificates, hook.url)
// The aggregated ClusterRoles that give `edit` in a namespace its PrometheusClusters, as installed.
await k('apply', '-n', 'prometheus-cluster-controller', '-f', join(ROOT, 'metacontroller', 'controller', 'rbac.yaml'))
await k('create', 'namespace', NS)
await k('create', 'rolebinding', 'tenant-edit', '--clusterrole=edit', '--user=tenant', '-n', NS)
await waitFor('the tenant to be allowed PrometheusClusters', async () => (await asTenant('auth', 'can-i', 'create', 'prometheusclusters', '-n', NS)).stdout.trim() === 'yes')

t.test('only a client with a certificate of the install\'s CA gets an answer; the real Metacontroller converges', async (t) => {
  const file = (dir: string, name: string) => readFileSync(join(dir, name))
  const ca = file(certificates.dir, 'ca.crt')
  await t.rejects(post(hook.url, { ca }), 'no client certificate: no answer')
  await t.rejects(post(hook.url, { ca, cert: file(strangers.dir, 'client.crt'), key: file(strangers.dir, 'client.key') }), 'a certificate of another CA: no answer')
  t.equal(await post(hook.url, { ca, cert: file(certificates.dir, 'client.crt'), key: file(certificates.dir, 'client.key') }), 200, 'Metacontroller\'s certificate: an answer')
  t.equal((await cluster.kubectl([...TENANT, 'apply', '-f', '-'], { input: resource('victim', {}) })).code, 0, 'the tenant creates a cluster')
  await waitReady('victim')
  t.pass('Ready through the real Metacontroller over mutual TLS')
})

t.test('the API server refuses the specs the hook refuses, naming the field', async (t) => {
  const badKey = await cluster.kubectl([...TENANT, 'apply', '-f', '-'], { input: resource('bad-labels', { externalLabels: { 'not-a-label': 'x' } }) })
  t.not(badKey.code, 0)
  t.match(badKey.stderr, /spec\.externalLabels/)
  const negative = await cluster.kubectl([...TENANT, 'apply', '-f', '-'], { input: resource('bad-size', { storage: { size: -1 } }) })
  t.not(negative.code, 0)
  t.match(negative.stderr, /spec\.storage\.size/)
})

t.test('a tenant\'s forged annotations and adopted objects never reach beyond the namespace', async (t) => {
  const victim = await getJson('prometheuscluster', 'victim', '-n', NS)
  const sts = await getJson('statefulset', 'promcluster-victim', '-n', NS)
  const childrenBefore = (await getJson<List>('statefulsets,services,configmaps,serviceaccounts,roles,rolebindings', '-n', NS, '-l', 'app.kubernetes.io/instance=victim')).items.map((o) => `${String(o.kind)}/${o.metadata.name}/${o.metadata.uid}`).sort()
  const rbacBefore = await rbacSnapshot()

  // An object labelled with the parent's controller-uid (Metacontroller adopts it) whose annotation names kube-system.
  const stranger = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'pwned',
      namespace: NS,
      labels: { 'controller-uid': victim.metadata.uid },
      annotations: { [LAST_APPLIED]: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'pwned', namespace: 'kube-system' }, data: { owned: 'yes' } }) }
    }
  }
  t.equal((await cluster.kubectl([...TENANT, 'apply', '-f', '-'], { input: JSON.stringify(stranger) })).code, 0, 'the tenant may create the adopted stranger')
  // The cluster's own StatefulSet, its annotation forged to name kube-system and a privileged pod.
  const forged = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'promcluster-victim', namespace: 'kube-system' }, spec: { template: { spec: { hostPID: true, containers: [{ name: 'x', image: 'evil', securityContext: { privileged: true } }] } } } }
  t.equal((await asTenant('annotate', 'statefulset', 'promcluster-victim', '-n', NS, '--overwrite', `${LAST_APPLIED}=${JSON.stringify(forged)}`)).code, 0, 'the tenant may annotate the StatefulSet')
  // RBAC is out of the tenant's reach to begin with.
  t.not((await asTenant('annotate', 'rolebinding', 'promcluster-victim', '-n', NS, '--overwrite', `${LAST_APPLIED}={}`)).code, 0, 'the tenant may not annotate the RoleBinding')
  t.not((await asTenant('create', 'rolebinding', 'pwned', '--clusterrole=cluster-admin', '--user=tenant', '-n', NS)).code, 0, 'the tenant may not bind cluster-admin')

  // Then the answers that keep the children as they are: paused, then a configuration promtool rejects.
  let sawOutside = false
  const watchOutside = setInterval(() => {
    void Promise.all([kTry('get', 'configmap', 'pwned', '-n', 'kube-system'), kTry('get', 'statefulset', 'promcluster-victim', '-n', 'kube-system')]).then((rs) => {
      if (rs.some((r) => r.code === 0)) sawOutside = true
    })
  }, 500)
  t.teardown(() => clearInterval(watchOutside))
  t.equal((await asTenant('patch', 'prometheuscluster', 'victim', '-n', NS, '--type=merge', '-p', '{"spec":{"paused":true}}')).code, 0)
  await waitCondition('victim', 'Progressing', 'Paused')
  await new Promise((r) => setTimeout(r, 12_000)) // two resyncs and more
  t.equal((await asTenant('patch', 'prometheuscluster', 'victim', '-n', NS, '--type=merge', '-p', '{"spec":{"paused":false,"scrapeInterval":"30s","externalLabels":{"a":"b"},"rules":{"groups":[{"name":"g","rules":[{"record":"r","expr":"up("}]}]}}}')).code, 0)
  await waitCondition('victim', 'Degraded', 'InvalidConfiguration')
  await new Promise((r) => setTimeout(r, 12_000))
  clearInterval(watchOutside)

  t.notOk(sawOutside, 'nothing appeared in kube-system')
  t.notMatch(readFileSync(cluster.logFile('metacontroller'), 'utf8'), /kube-system\/pwned|kube-system\/promcluster-victim/, 'Metacontroller never acted on kube-system')
  await waitFor('the adopted stranger to be deleted', async () => (await kTry('get', 'configmap', 'pwned', '-n', NS)).code !== 0)
  t.pass('the adopted stranger was left out of the answers, so Metacontroller deleted it')
  t.same(await rbacSnapshot(), rbacBefore, 'no RBAC object anywhere changed')
  const after = (await getJson<List>('statefulsets,services,configmaps,serviceaccounts,roles,rolebindings', '-n', NS, '-l', 'app.kubernetes.io/instance=victim')).items.map((o) => `${String(o.kind)}/${o.metadata.name}/${o.metadata.uid}`).sort()
  t.same(after, childrenBefore, 'the cluster\'s own children are the same objects')
  const stsAfter = await getJson('statefulset', 'promcluster-victim', '-n', NS)
  t.same((stsAfter.spec as { template: unknown }).template, (sts.spec as { template: unknown }).template, 'the pod template is unchanged: no privileged container')
})

t.test('deleting a paused cluster whose spec switched to Retain keeps its claims', async (t) => {
  const name = 'keeper'
  t.equal((await cluster.kubectl(['apply', '-f', '-'], { input: resource(name, { storage: { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' } } }) })).code, 0)
  await waitReady(name)
  const before = (await claims(name)).map((c) => c.metadata.uid)
  t.equal(before.length, 1)
  await k('patch', 'prometheuscluster', name, '-n', NS, '--type=merge', '-p', '{"spec":{"paused":true}}')
  await waitCondition(name, 'Progressing', 'Paused')
  await k('patch', 'prometheuscluster', name, '-n', NS, '--type=merge', '-p', '{"spec":{"storage":{"persistentVolumeClaimRetentionPolicy":{"whenDeleted":"Retain","whenScaled":"Retain"}}}}')
  await k('delete', 'prometheuscluster', name, '-n', NS, '--timeout=120s')
  await waitFor('the StatefulSet to be gone', async () => (await kTry('get', 'statefulset', `promcluster-${name}`, '-n', NS)).code !== 0)
  await new Promise((r) => setTimeout(r, 3000))
  const kept = await claims(name)
  t.same(kept.map((c) => c.metadata.uid), before, 'the same claims are still there')
  for (const c of kept) t.equal(c.status?.phase, 'Bound', c.metadata.name)
})
