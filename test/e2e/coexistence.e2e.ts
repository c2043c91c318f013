// This controller and the real prometheus-operator in one namespace, neither touching the other's
// objects: the operator (built from its release by scripts/install-e2e-tools.sh, its own CRDs, run
// out of cluster and watching only this namespace) reconciles Prometheus `main` and `k8s`; ours
// reconciles PrometheusCluster `main` (the same name) and `operated` (whose children would be named
// like the operator's governing Service if our prefix were the operator's). Our names and labels
// come from src/core/names.ts and src/api/resource.ts; the operator's are the ones its source
// (pkg/prometheus) gives its objects: StatefulSet prometheus-<name>, the governing Service
// prometheus-operated selecting app.kubernetes.io/name=prometheus, the kind's plural prometheuses.
//   npx tap --disable-coverage --timeout 1800 test/e2e/coexistence.e2e.ts
import { execFileSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { isDeepStrictEqual } from 'node:util'
import t from 'tap'
import { parseAllDocuments } from 'yaml'
import { logTail, startCluster } from '../../harness/cluster.js'
import { startController } from '../../harness/controller.js'
import { startPrometheusOperator } from '../../harness/prometheus-operator.js'
import { waitFor } from '../../harness/lib/wait.js'
import { API_VERSION, KIND, PLURAL, SHORT_NAMES, SINGULAR } from '../../src/api/resource.js'
import { childNames, clusterNames, selectorLabels } from '../../src/core/names.js'
import { HELM_BIN, ROOT } from '../helpers/env.js'

type OwnerRef = { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }
type Condition = { type: string; status: string; reason?: string; message?: string }
type Obj = {
  apiVersion: string
  kind: string
  metadata: { name: string; uid: string; resourceVersion: string; labels?: Record<string, string>; ownerReferences?: OwnerRef[] }
  spec?: Record<string, unknown>
  status?: { conditions?: Condition[] } & Record<string, unknown>
} & Record<string, unknown>

const NS = 'coexist'
const OPERATOR_API = 'monitoring.coreos.com/v1'
/** Ours: `main` like theirs; `operated`, which a `prometheus-` prefix would make prometheus-operated. */
const OURS = { main: 2, operated: 1 } as Record<string, number>
/** Theirs: `main` like ours; `k8s`, kube-prometheus's name. */
const THEIRS = { main: 1, k8s: 2 } as Record<string, number>
/** What prometheus-operator names and labels (its pkg/prometheus; shard 0). */
const operatorStatefulSet = (name: string) => `prometheus-${name}`
const GOVERNING_SERVICE = 'prometheus-operated'
const OPERATOR_POD_NAME_LABEL = 'operator.prometheus.io/name'

const cluster = await startCluster({ metacontroller: 'required', persistentVolumes: 8 })
const closers: (() => Promise<void>)[] = [() => cluster.stop()]
t.teardown(async () => {
  for (const close of closers.reverse()) await close()
})
await startController(cluster, closers)
await cluster.kubectlOk(['create', 'namespace', NS])
const operator = await startPrometheusOperator(cluster, { namespaces: [NS] })
t.comment(`${operator.version}; log: ${operator.logFile}`)

const k = (...args: string[]) => cluster.kubectlOk(args)
const getJson = async <T = Obj>(...args: string[]): Promise<T> => JSON.parse(await k('get', ...args, '-n', NS, '-o', 'json')) as T
const items = async (what: string, selector?: string) => (await getJson<{ items: Obj[] }>(what, ...(selector ? ['-l', selector] : []))).items
const names = (objects: Obj[]) => objects.map((o) => o.metadata.name).sort()
const condition = (o: Obj, type: string) => o.status?.conditions?.find((c) => c.type === type)
const labelSelector = (labels: Record<string, string>) => Object.entries(labels).map(([key, v]) => `${key}=${v}`).join(',')
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** The end of a component's log, for a wait's timeout message. */
const logOf = (component: string) => () => `\n--- end of ${cluster.logFile(component)} ---\n${logTail(cluster, component, 12)}`

const prometheus = (name: string, replicas: number) => ({
  apiVersion: OPERATOR_API,
  kind: 'Prometheus',
  metadata: { name, namespace: NS },
  // Selectors set, as kube-prometheus sets them, so the operator generates the configuration.
  spec: { replicas, serviceMonitorSelector: {}, podMonitorSelector: {}, ruleSelector: {} }
})
const prometheusCluster = (name: string, replicas: number) => ({ apiVersion: API_VERSION, kind: KIND, metadata: { name, namespace: NS }, spec: { replicas } })

/** Polls until get() returns `expected` or timeoutMs passes; returns what it last got, for the assertion. */
async function settle<T>(get: () => Promise<T>, expected: T, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await get()
    if (isDeepStrictEqual(value, expected) || Date.now() > deadline) return value
    await sleep(500)
  }
}

// Everything in the namespace either controller could make or own, and whose it is.
const KINDS = 'statefulsets,services,endpoints,endpointslices,configmaps,secrets,serviceaccounts,roles,rolebindings,poddisruptionbudgets,pods,persistentvolumeclaims'
const PARENTS = `prometheuses.monitoring.coreos.com,${PLURAL}.relaxdiego.com`
type Side = 'ours' | 'theirs'
interface Inventory {
  objects: Obj[]
  /** The parents each object descends from, through ownerReferences (Endpoints: their Service; claims: their StatefulSet). */
  roots(o: Obj): Set<string>
}
const root = (side: Side, name: string) => `${side}/${name}`

async function inventory(): Promise<Inventory> {
  const objects = (await getJson<{ items: Obj[] }>(`${PARENTS},${KINDS}`)).items
  const byUid = new Map(objects.map((o) => [o.metadata.uid, o]))
  const byKindName = new Map(objects.map((o) => [`${o.kind}/${o.metadata.name}`, o]))
  const statefulSets = objects.filter((o) => o.kind === 'StatefulSet')
  const roots = (o: Obj, seen = new Set<string>()): Set<string> => {
    const found = new Set<string>()
    if (seen.has(o.metadata.uid)) return found
    seen.add(o.metadata.uid)
    if (o.kind === KIND && o.apiVersion === API_VERSION) return found.add(root('ours', o.metadata.name))
    if (o.kind === 'Prometheus' && o.apiVersion === OPERATOR_API) return found.add(root('theirs', o.metadata.name))
    const parents: Obj[] = []
    for (const ref of o.metadata.ownerReferences ?? []) {
      if (ref.kind === KIND && ref.apiVersion === API_VERSION) found.add(root('ours', ref.name))
      else if (ref.kind === 'Prometheus' && ref.apiVersion === OPERATOR_API) found.add(root('theirs', ref.name))
      else {
        const parent = byUid.get(ref.uid)
        if (parent) parents.push(parent)
      }
    }
    if (o.kind === 'Endpoints') {
      const service = byKindName.get(`Service/${o.metadata.name}`)
      if (service) parents.push(service)
    }
    if (o.kind === 'PersistentVolumeClaim') {
      for (const sts of statefulSets) {
        const templates = ((sts.spec?.volumeClaimTemplates ?? []) as { metadata: { name: string } }[]).map((c) => c.metadata.name)
        if (templates.some((tpl) => new RegExp(`^${tpl}-${sts.metadata.name}-\\d+$`).test(o.metadata.name))) parents.push(sts)
      }
    }
    for (const parent of parents) for (const r of roots(parent, seen)) found.add(r)
    return found
  }
  return { objects, roots: (o) => roots(o) }
}

/** kind/name -> uid@resourceVersion of every object of one side (the parents included). */
async function snapshot(side: Side): Promise<Record<string, string>> {
  const inv = await inventory()
  const entries = inv.objects.filter((o) => [...inv.roots(o)].some((r) => r.startsWith(`${side}/`))).map((o) => [`${o.kind}/${o.metadata.name}`, `${o.metadata.uid}@${o.metadata.resourceVersion}`] as const)
  return Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)))
}

/** A snapshot that held still for 3 s (at most 60 s of trying): nothing of that side was still being written. */
async function settledSnapshot(side: Side): Promise<Record<string, string>> {
  let previous = await snapshot(side)
  return waitFor(`the objects of ${side} to stop changing`, async () => {
    await sleep(3000)
    const current = await snapshot(side)
    const still = isDeepStrictEqual(current, previous)
    previous = current
    return still && current
  }, { timeoutMs: 60_000 })
}

async function waitOursReady(): Promise<void> {
  for (const [name, replicas] of Object.entries(OURS)) {
    await waitFor(`PrometheusCluster ${name} Ready with ${String(replicas)} ready replicas`, async () => {
      const p = (await getJson(PLURAL, name))
      const pods = (await items('pods', labelSelector(selectorLabels(name)))).filter((pod) => condition(pod, 'Ready')?.status === 'True')
      return condition(p, 'Ready')?.status === 'True' && p.status?.readyReplicas === replicas && pods.length === replicas
    }, { context: logOf('metacontroller') })
  }
}

let theirsBefore: Record<string, string> = {}

t.test('the operator reconciles its Prometheus objects: Available and Reconciled, pods Ready on the kwok node', async (t) => {
  await cluster.apply(Object.entries(THEIRS).map(([name, replicas]) => prometheus(name, replicas)))
  for (const [name, replicas] of Object.entries(THEIRS)) {
    const p = await waitFor(`Prometheus ${name} Available and Reconciled`, async () => {
      const p = await getJson(`prometheuses.monitoring.coreos.com`, name)
      return condition(p, 'Available')?.status === 'True' && condition(p, 'Reconciled')?.status === 'True' && p.status?.availableReplicas === replicas && p
    }, { timeoutMs: 120_000, context: logOf('prometheus-operator') })
    t.equal(p.status?.availableReplicas, replicas, `Prometheus ${name}: ${String(replicas)} available replicas`)
  }
  theirsBefore = await settledSnapshot('theirs')
  t.ok(Object.keys(theirsBefore).length > 0, 'the operator\'s objects, recorded before ours exist', { objects: Object.keys(theirsBefore) })
})

t.test('ours become Ready beside them, and creating ours changed none of the operator\'s objects', async (t) => {
  await cluster.apply(Object.entries(OURS).map(([name, replicas]) => prometheusCluster(name, replicas)))
  await waitOursReady()
  t.pass('every PrometheusCluster Ready with all its pods')
  t.same(await settle(() => snapshot('theirs'), theirsBefore, 10_000), theirsBefore, 'every object of the operator\'s has the same UID and resourceVersion as before ours were created')
})

t.test('every child exists, owned by its own controller; nothing is owned by both', async (t) => {
  const inv = await inventory()
  const find = (kind: string, name: string) => inv.objects.find((o) => o.kind === kind && o.metadata.name === name)
  const controllerRef = (o: Obj | undefined) => o?.metadata.ownerReferences?.find((r) => r.controller === true)
  const parentUid = (kind: string, name: string) => find(kind, name)?.metadata.uid

  for (const [name, replicas] of Object.entries(OURS)) {
    const uid = parentUid(KIND, name)
    for (const [kind, childList] of Object.entries(childNames(name))) {
      if (kind === 'PodDisruptionBudget' && replicas < 2) continue
      for (const child of childList) {
        t.match(controllerRef(find(kind, child)), { apiVersion: API_VERSION, kind: KIND, name, uid }, `ours ${name}: ${kind} ${child} is controlled by PrometheusCluster ${name}`)
      }
    }
    const sts = find('StatefulSet', clusterNames(name).statefulSet)
    const pods = inv.objects.filter((o) => o.kind === 'Pod' && controllerRef(o)?.uid === sts?.metadata.uid)
    t.equal(pods.length, replicas, `ours ${name}: ${String(replicas)} pods of StatefulSet ${clusterNames(name).statefulSet}`)
  }
  for (const [name, replicas] of Object.entries(THEIRS)) {
    const uid = parentUid('Prometheus', name)
    const sts = find('StatefulSet', operatorStatefulSet(name))
    t.match(controllerRef(sts), { apiVersion: OPERATOR_API, kind: 'Prometheus', name, uid }, `theirs ${name}: StatefulSet ${operatorStatefulSet(name)} is controlled by Prometheus ${name}`)
    const pods = inv.objects.filter((o) => o.kind === 'Pod' && controllerRef(o)?.uid === sts?.metadata.uid)
    t.equal(pods.length, replicas, `theirs ${name}: ${String(replicas)} pods of StatefulSet ${operatorStatefulSet(name)}`)
    t.ok(find('Service', GOVERNING_SERVICE)?.metadata.ownerReferences?.some((r) => r.kind === 'Prometheus' && r.uid === uid), `theirs ${name}: the governing Service ${GOVERNING_SERVICE} names Prometheus ${name} as an owner`)
  }

  const sides = (o: Obj) => new Set([...inv.roots(o)].map((r) => r.split('/')[0]))
  const both = inv.objects.filter((o) => sides(o).size > 1).map((o) => `${o.kind}/${o.metadata.name} <- ${[...inv.roots(o)].join(', ')}`)
  t.same(both, [], 'no object descends from both a PrometheusCluster and a Prometheus')
  const managedByOperator = inv.objects.filter((o) => o.metadata.labels?.['app.kubernetes.io/managed-by'] === 'prometheus-operator')
  t.same(managedByOperator.filter((o) => !isDeepStrictEqual([...sides(o)], ['theirs'])).map((o) => `${o.kind}/${o.metadata.name}`), [], 'everything labelled managed-by prometheus-operator descends from a Prometheus only')
  const ourLabels = inv.objects.filter((o) => o.metadata.labels?.['app.kubernetes.io/managed-by'] === 'prometheus-cluster-controller')
  t.same(ourLabels.filter((o) => !isDeepStrictEqual([...sides(o)], ['ours'])).map((o) => `${o.kind}/${o.metadata.name}`), [], 'everything labelled managed-by prometheus-cluster-controller descends from a PrometheusCluster only')
})

/** The pods behind a Service, by name: from its EndpointSlices and from its Endpoints; each must have an address. */
async function endpointPods(service: string): Promise<{ slices: string[]; endpoints: string[]; withoutAddress: string[] }> {
  type Slice = { endpoints?: { addresses: string[]; targetRef?: { kind: string; name: string } }[] }
  type Endpoints = { subsets?: { addresses?: { ip: string; targetRef?: { name: string } }[]; notReadyAddresses?: { ip: string; targetRef?: { name: string } }[] }[] }
  const slices = (await getJson<{ items: Slice[] }>('endpointslices', '-l', `kubernetes.io/service-name=${service}`)).items.flatMap((s) => s.endpoints ?? [])
  const endpoints = await cluster.kubectl(['get', 'endpoints', service, '-n', NS, '-o', 'json'])
  const subsets = endpoints.code === 0 ? ((JSON.parse(endpoints.stdout) as Endpoints).subsets ?? []) : []
  return {
    slices: slices.map((e) => e.targetRef?.name ?? '?').sort(),
    endpoints: subsets.flatMap((s) => [...(s.addresses ?? []), ...(s.notReadyAddresses ?? [])]).map((a) => a.targetRef?.name ?? '?').sort(),
    withoutAddress: slices.filter((e) => e.addresses.length === 0).map((e) => e.targetRef?.name ?? '?')
  }
}

t.test('the operator\'s prometheus-operated selects only its pods; our Services only ours', async (t) => {
  const theirPods = (await items('pods', OPERATOR_POD_NAME_LABEL)).filter((p) => Object.keys(THEIRS).includes(p.metadata.labels?.[OPERATOR_POD_NAME_LABEL] ?? ''))
  const expectedTheirs = { slices: names(theirPods), endpoints: names(theirPods), withoutAddress: [] as string[] }
  t.equal(expectedTheirs.slices.length, Object.values(THEIRS).reduce((a, b) => a + b, 0), 'the operator\'s pods', { pods: expectedTheirs.slices })
  t.same(await settle(() => endpointPods(GOVERNING_SERVICE), expectedTheirs), expectedTheirs, `${GOVERNING_SERVICE}: its EndpointSlices and Endpoints hold exactly the operator's pods, each with an address`)
  for (const name of Object.keys(OURS)) {
    const ours = names(await items('pods', labelSelector(selectorLabels(name))))
    const expected = { slices: ours, endpoints: ours, withoutAddress: [] as string[] }
    for (const service of [clusterNames(name).service, clusterNames(name).headlessService]) {
      t.same(await settle(() => endpointPods(service), expected), expected, `${service}: exactly the pods of PrometheusCluster ${name}`)
    }
  }
  const budget = clusterNames('main').podDisruptionBudget
  const pdb = await getJson(`poddisruptionbudget`, budget)
  t.equal(pdb.status?.expectedPods, OURS.main, `our PodDisruptionBudget ${budget} counts only the pods of PrometheusCluster main`)
})

t.test('kubectl: the operator\'s names list only Prometheus objects, ours only PrometheusClusters', async (t) => {
  const crds = (await getJson<{ items: { spec: { group: string; names: { plural: string; singular: string; shortNames?: string[] } } }[] }>('crd')).items
  const operatorNames = crds.filter((c) => c.spec.group === 'monitoring.coreos.com').flatMap((c) => [c.spec.names.plural, c.spec.names.singular, ...(c.spec.names.shortNames ?? [])])
  const ourNames = [PLURAL, SINGULAR, ...SHORT_NAMES]
  t.same(ourNames.filter((n) => operatorNames.includes(n)), [], 'none of our plural, singular and short names is a name of an operator CRD', { ours: ourNames })

  const prometheusCrd = crds.find((c) => c.spec.names.plural === 'prometheuses' && c.spec.group === 'monitoring.coreos.com')
  const getNames = async (resource: string) => (await k('get', resource, '-n', NS, '-o', 'name')).split('\n').filter((l) => l !== '').sort()
  const theirs = Object.keys(THEIRS).map((n) => `prometheus.monitoring.coreos.com/${n}`).sort()
  for (const resource of ['prometheuses', 'prometheus', ...(prometheusCrd?.spec.names.shortNames ?? [])]) {
    t.same(await getNames(resource), theirs, `kubectl get ${resource}: the operator's Prometheus objects only`)
  }
  const ours = Object.keys(OURS).map((n) => `${SINGULAR}.relaxdiego.com/${n}`).sort()
  for (const resource of ourNames) t.same(await getNames(resource), ours, `kubectl get ${resource}: our PrometheusClusters only`)
})

t.test('deleting ours leaves every object of the operator\'s as it was', async (t) => {
  await k('delete', PLURAL, ...Object.keys(OURS), '-n', NS, '--wait=false')
  await waitFor('our PrometheusClusters and their StatefulSets and pods to be gone', async () => {
    const left = (await items(PLURAL)).length + (await items('statefulsets,pods', 'app.kubernetes.io/managed-by=prometheus-cluster-controller')).length
    return left === 0
  }, { timeoutMs: 120_000, context: logOf('metacontroller') })
  await sleep(6000) // a Metacontroller resync period and the endpoint controllers' batching
  t.same(await snapshot('theirs'), theirsBefore, 'the same UIDs and resourceVersions')
})

t.test('deleting the operator\'s leaves every object of ours as it was', async (t) => {
  await cluster.apply(Object.entries(OURS).map(([name, replicas]) => prometheusCluster(name, replicas)))
  await waitOursReady()
  t.same(await snapshot('theirs'), theirsBefore, 'creating ours again changed none of the operator\'s objects either')
  const oursBefore = await settledSnapshot('ours')
  await k('delete', 'prometheuses.monitoring.coreos.com', ...Object.keys(THEIRS), '-n', NS, '--wait=false')
  await waitFor('the operator\'s Prometheus objects, StatefulSets, pods and governing Service to be gone', async () => {
    const left = (await items('prometheuses.monitoring.coreos.com')).length + (await items('statefulsets,pods,services', 'app.kubernetes.io/managed-by=prometheus-operator')).length
    const governing = await cluster.kubectl(['get', 'service', GOVERNING_SERVICE, '-n', NS, '-o', 'name'])
    return left === 0 && governing.code !== 0
  }, { timeoutMs: 120_000, context: logOf('prometheus-operator') })
  await sleep(6000)
  t.same(await snapshot('ours'), oursBefore, 'the same UIDs and resourceVersions')
  for (const name of Object.keys(OURS)) t.equal(condition(await getJson(PLURAL, name), 'Ready')?.status, 'True', `PrometheusCluster ${name} still Ready`)
})

t.test('the controller chart\'s ServiceMonitor and PrometheusRule, applied here, reach the configuration the operator generates', async (t) => {
  // Rendered as a user installs them (serviceMonitor and prometheusRule on), into this namespace,
  // for a Prometheus of the operator's that selects every ServiceMonitor and rule in it.
  const rendered = parseAllDocuments(execFileSync(HELM_BIN, ['template', 'prometheus-cluster-controller', join(ROOT, 'charts', 'prometheus-cluster-controller'), '--namespace', NS, '--kube-version', '1.35.0', '--set', 'serviceMonitor.enabled=true,prometheusRule.enabled=true'], { encoding: 'utf8' }))
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null)
  const monitoring = rendered.filter((o) => o.kind === 'ServiceMonitor' || o.kind === 'PrometheusRule' || (o.kind === 'Service' && o.metadata.name.endsWith('-metrics')))
  t.same(monitoring.map((o) => o.kind).sort(), ['PrometheusRule', 'Service', 'ServiceMonitor'], 'the chart renders a ServiceMonitor, its metrics Service and a PrometheusRule')
  await cluster.apply([...monitoring, prometheus('watcher', 1)])
  const serviceMonitor = monitoring.find((o) => o.kind === 'ServiceMonitor')?.metadata.name ?? '?'
  const job = `serviceMonitor/${NS}/${serviceMonitor}/0`
  const config = await waitFor(`the operator's configuration for Prometheus watcher to scrape ${job}`, async () => {
    const secret = await cluster.kubectl(['get', 'secret', operatorStatefulSet('watcher'), '-n', NS, '-o', 'jsonpath={.data.prometheus\\.yaml\\.gz}'])
    const text = secret.code === 0 && secret.stdout !== '' ? gunzipSync(Buffer.from(secret.stdout, 'base64')).toString('utf8') : ''
    return text.includes(`job_name: ${job}`) && text
  }, { timeoutMs: 60_000, context: logOf('prometheus-operator') })
  t.match(config, /- __meta_kubernetes_endpoint(?:slice)?_port_name\n\s+regex: metrics\n/, 'a scrape job of the metrics port, generated from our ServiceMonitor')
  const alerts = (monitoring.find((o) => o.kind === 'PrometheusRule')?.spec?.groups as { rules: { alert?: string }[] }[]).flatMap((g) => g.rules.map((r) => r.alert ?? ''))
  const ruleFiles = await waitFor('the operator\'s rule files for Prometheus watcher to hold our alerts', async () => {
    const cm = await cluster.kubectl(['get', 'configmap', `${operatorStatefulSet('watcher')}-rulefiles-0`, '-n', NS, '-o', 'json'])
    const text = cm.code === 0 ? Object.values((JSON.parse(cm.stdout) as { data?: Record<string, string> }).data ?? {}).join('\n') : ''
    return alerts.every((a) => text.includes(`alert: ${a}`)) && text
  }, { timeoutMs: 60_000, context: logOf('prometheus-operator') })
  t.ok(alerts.length >= 5 && alerts.every((a) => ruleFiles.includes(`alert: ${a}`)), `every alert of the chart is in the operator's rule files: ${alerts.join(', ')}`)
})

t.test('the operator ran throughout and logged no error', async (t) => {
  t.equal(operator.managed.exit, undefined, 'still running')
  // One race is the operator's own: a sync of one of its Prometheus objects queued while the test
  // deleted it finds that object's generated Secret already gone ("prometheus-k8s" not found). It
  // names only the operator's objects being deleted; any other error line fails.
  const deleting = (line: string) => Object.keys(THEIRS).some((n) => line.includes(`sync \\"${NS}/${n}\\" failed: `) && line.includes(`\\"${operatorStatefulSet(n)}\\" not found`))
  const errors = (await readFile(operator.logFile, 'utf8')).split('\n').filter((l) => l.includes('level=error'))
  t.same(errors.filter((l) => !deleting(l)), [], 'no level=error line in its log but a sync of its own Prometheus racing the test\'s delete', { errors })
})
