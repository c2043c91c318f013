// Real Prometheus pods: the control plane of the journey plus a real node (harness/lib/real-node.ts:
// containerd, runc and a kubelet), with the kwok node cordoned so the scheduler puts every pod on
// the real one. The rendered StatefulSet runs the chart's default image, built here by
// scripts/install-node-tools.sh, unchanged. Every assertion is on the API server's objects, the
// running servers' HTTP API (reached at their pod IPs) or the files on their volumes.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { parse, stringify } from 'yaml'
import { startCluster } from '../../harness/cluster.js'
import { startController } from '../../harness/controller.js'
import { chownHostPathVolumes, kubectl, kubectlOk, nodeLogTail, type RealNode, startRealNode } from '../../harness/lib/real-node.js'
import { watch, type WatchedObject } from '../../harness/lib/watch.js'
import { waitFor } from '../../harness/lib/wait.js'

type Pod = {
  metadata: { name: string; uid: string }
  spec: {
    nodeName?: string
    containers: { name: string; args?: string[]; volumeMounts?: { name: string; mountPath: string }[] }[]
    volumes?: { name: string; persistentVolumeClaim?: { claimName: string }; configMap?: { name: string } }[]
  }
  status: {
    podIP?: string
    conditions?: { type: string; status: string }[]
    containerStatuses?: { name: string; image: string; ready: boolean; restartCount: number }[]
  }
}
type Claim = { metadata: { name: string; uid: string }; spec: { volumeName?: string }; status?: { phase?: string } }
type Sample = [number, string]

const ns = 'real'
const name = 'data'
const self = 'up{job="prometheus"}'

const cluster = await startCluster({ metacontroller: 'required' })
// Stops whatever was started, last first, also when the set-up below fails half-way.
const closers: (() => Promise<void>)[] = [() => cluster.stop()]
t.teardown(async () => {
  for (const close of closers.reverse()) await close()
})

// kubectl without stdin (lib/real-node.ts): a quick exit never meets a write to its stdin.
const kTry = (...args: string[]) => kubectl(cluster, args)
const k = (...args: string[]) => kubectlOk(cluster, args)
const getJson = async <T>(...args: string[]): Promise<T> => JSON.parse(await k('get', ...args, '-o', 'json')) as T

/** waitFor with the end of the real node's logs in the timeout's message. */
const waitForNode = <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 120_000): Promise<T> =>
  waitFor(what, probe, { timeoutMs, context: () => `\n--- kubelet ---\n${nodeLogTail(node, 'kubelet', 15)}\n--- containerd ---\n${nodeLogTail(node, 'containerd', 10)}` })


const pods = async (): Promise<Pod[]> => (await getJson<{ items: Pod[] }>('pods', '-n', ns, '-l', `app.kubernetes.io/instance=${name}`)).items
const claims = async (): Promise<Claim[]> => (await getJson<{ items: Claim[] }>('pvc', '-n', ns, '-l', `app.kubernetes.io/instance=${name}`)).items
const isReady = (p: Pod): boolean => (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')

async function readyPods(count: number): Promise<Pod[]> {
  return waitForNode(`${String(count)} Ready pod(s) of ${ns}/${name} on the real node, and no other`, async () => {
    const all = await pods()
    const ready = all.filter(isReady)
    if (ready.length === count && all.length === count) return ready
    // Not yet: what there is, for the timeout's message.
    const status = await kTry('get', 'prometheuscluster', name, '-n', ns, '-o', 'jsonpath={range .status.conditions[*]}{.type}={.status} {.message}; {end}')
    const summary = all.map((p) => `${p.metadata.name} on ${p.spec.nodeName ?? '(unscheduled)'}: ${JSON.stringify(p.status.containerStatuses ?? p.status.conditions ?? [])}`)
    throw new Error(`pods: [${summary.join(', ')}]; conditions: ${status.stdout || status.stderr}`)
  }, 180_000)
}
async function readyPod(): Promise<Pod> {
  const [pod] = await readyPods(1)
  if (pod === undefined) throw new Error('no pod')
  return pod
}
const condition = async (type: string): Promise<{ status: string; reason: string; message: string } | undefined> =>
  (await getJson<{ status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } }>('prometheuscluster', name, '-n', ns)).status?.conditions?.find((c) => c.type === type)

/** GET the Prometheus HTTP API of a pod at its pod IP; the `data` field of a success. */
async function api<T>(pod: Pod, path: string): Promise<T> {
  const res = await fetch(`http://${pod.status.podIP ?? 'no-pod-ip'}:9090${path}`, { signal: AbortSignal.timeout(5000) })
  const body = (await res.json()) as { status: string; data: T; error?: string }
  if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? res.statusText}`)
  return body.data
}
const runningConfig = async (pod: Pod): Promise<Record<string, unknown> & { global?: Record<string, unknown>; scrape_configs?: { job_name: string }[] }> =>
  parse((await api<{ yaml: string }>(pod, '/api/v1/status/config')).yaml) as Record<string, unknown>
/** The raw samples of the self-scrape's `up` over the last hour (a range-vector query). */
async function selfSamples(pod: Pod): Promise<Sample[]> {
  const result = await api<{ result: { values: Sample[] }[] }>(pod, `/api/v1/query?query=${encodeURIComponent(`${self}[1h]`)}`)
  return result.result.flatMap((r) => r.values)
}
async function instant(pod: Pod, query: string): Promise<number | undefined> {
  const result = await api<{ result: { value: Sample }[] }>(pod, `/api/v1/query?query=${encodeURIComponent(query)}`)
  const value = result.result[0]?.value[1]
  return value === undefined ? undefined : Number(value)
}
/** The configuration the pod was given: the ConfigMap key behind its --config.file. */
async function renderedConfig(pod: Pod): Promise<string> {
  const container = pod.spec.containers.find((c) => c.name === 'prometheus')
  const file = container?.args?.find((a) => a.startsWith('--config.file='))?.slice('--config.file='.length) ?? ''
  const mount = container?.volumeMounts?.find((m) => file.startsWith(`${m.mountPath}/`))
  const configMap = pod.spec.volumes?.find((v) => v.name === mount?.name)?.configMap?.name
  if (mount === undefined || configMap === undefined) throw new Error(`--config.file=${file} is not on a ConfigMap volume`)
  const cm = await getJson<{ data: Record<string, string> }>('configmap', configMap, '-n', ns)
  return cm.data[file.slice(mount.mountPath.length + 1)] ?? ''
}
const resource = { apiVersion: 'relaxdiego.com/v1alpha1', kind: 'PrometheusCluster', metadata: { name, namespace: ns }, spec: {} }
/** kubectl apply of the resource, from a file as the user would. */
async function applyResource(): Promise<void> {
  const file = join(cluster.dir, `${name}-${String(Date.now())}.yaml`)
  await writeFile(file, stringify(resource))
  await k('apply', '-f', file)
}

// The real node, its volumes writable by Prometheus' user (hostPath gets no fsGroup), and every
// kwok node cordoned: what the scheduler places now lands on the real node.
const node: RealNode = await startRealNode(cluster)
closers.push(() => node.stop())
await chownHostPathVolumes(cluster, 65534, 65534)
for (const n of (await k('get', 'nodes', '-l', 'type=kwok', '-o', 'name')).split('\n').filter((l) => l !== '')) await k('cordon', n)
await startController(cluster, closers)
// The restricted Pod Security profile, enforced: the API server admits only pods that meet it.
await k('create', 'namespace', ns)
await k('label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/enforce-version=latest')

t.test('spec {}: a real Prometheus passes its readiness probe and runs the rendered configuration', async (t) => {
  const started = Date.now()
  await applyResource()
  const pod = await readyPod()
  t.comment(`Ready on the real node in ${String((Date.now() - started) / 1000)}s`)
  t.equal(pod.spec.nodeName, node.name, 'scheduled on the real node')
  const labels = JSON.parse(await k('get', 'namespace', ns, '-o', 'jsonpath={.metadata.labels}')) as Record<string, string>
  t.equal(labels['pod-security.kubernetes.io/enforce'], 'restricted', 'admitted where the restricted profile is enforced')
  t.match(pod.status.podIP, new RegExp(`^${node.podCidr.replace(/\.0\/24$/, '').replaceAll('.', '\\.')}\\.\\d+$`), 'a pod IP on the node\'s bridge')
  const container = pod.status.containerStatuses?.find((c) => c.name === 'prometheus')
  t.match(container?.image, /^(docker\.io\/)?quay\.io\/prometheus\/prometheus:v\d+\.\d+\.\d+$/, 'the chart\'s default image')
  const build = await api<{ version: string }>(pod, '/api/v1/status/buildinfo')
  t.equal(`v${build.version}`, container?.image.split(':').pop(), 'the server is the version its image is named for')

  const rendered = parse(await renderedConfig(pod)) as { global: Record<string, unknown>; scrape_configs: { job_name: string }[] }
  const running = await runningConfig(pod)
  t.equal(running.global?.scrape_interval, rendered.global.scrape_interval, 'the rendered scrape interval')
  t.equal(running.global?.evaluation_interval, rendered.global.evaluation_interval, 'the rendered evaluation interval')
  t.same((running.scrape_configs ?? []).map((j) => j.job_name), rendered.scrape_configs.map((j) => j.job_name), 'the rendered scrape jobs')
})

t.test('data outlives the resource: a graceful stop before the finalizer goes, the same claims and samples after re-creation', async (t) => {
  const pod = await readyPod()
  const before = await waitForNode('two samples from the self-scrape', async () => {
    const samples = await selfSamples(pod)
    return samples.length >= 2 && samples
  })
  const [claim] = await claims()
  t.ok(claim?.spec.volumeName, 'the claim is bound')
  const pv = await getJson<{ spec: { hostPath: { path: string } } }>('pv', claim?.spec.volumeName ?? '')
  const dataDir = pv.spec.hostPath.path
  t.ok(existsSync(join(dataDir, 'lock')), 'a running server holds its TSDB lock file')

  // Deleted: the hook scales the StatefulSet to zero and releases the finalizer only once the pod
  // is gone. Watches started before the delete see every write; revisions order them.
  type PodObject = WatchedObject & { status?: { containerStatuses?: { name: string; state?: { terminated?: { exitCode: number; reason?: string } } }[] } }
  const parents = await watch(cluster, `/apis/relaxdiego.com/v1alpha1/namespaces/${ns}/prometheusclusters`, { fieldSelector: `metadata.name=${name}` })
  const podWatch = await watch<PodObject>(cluster, `/api/v1/namespaces/${ns}/pods`, { labelSelector: `app.kubernetes.io/instance=${name}` })
  t.teardown(() => [parents, podWatch].forEach((w) => w.stop()))
  let lastLog = ''
  const readLog = setInterval(() => {
    const newest = node.containerLogs(ns, pod.metadata.name, 'prometheus').at(-1)
    if (newest !== undefined) lastLog = readFileSync(newest, 'utf8')
  }, 200)
  const deleting = Date.now()
  await k('delete', 'prometheuscluster', name, '-n', ns, '--wait=false')
  const parentGone = await parents.until('the PrometheusCluster deleted', (e) => e.type === 'DELETED', 300_000).finally(() => clearInterval(readLog))
  t.comment(`deleted in ${String((Date.now() - deleting) / 1000)}s`)
  const podGone = podWatch.events.find((e) => e.type === 'DELETED' && e.object.metadata.name === pod.metadata.name)
  t.ok(podGone && podGone.revision < parentGone.revision, 'the pod was gone before the finalizer was released', { podGone: podGone?.revision, parentGone: parentGone.revision })
  const terminated = podWatch.events.flatMap((e) => e.object.status?.containerStatuses ?? []).filter((c) => c.name === 'prometheus').map((c) => c.state?.terminated).filter((s) => s !== undefined)
  t.equal(terminated.at(-1)?.exitCode, 0, 'Prometheus exited 0 on SIGTERM', { terminated })
  t.notOk(existsSync(join(dataDir, 'lock')), 'the server released its TSDB lock: it shut down cleanly')
  t.ok(readdirSync(join(dataDir, 'wal')).length > 0, 'the WAL is on the volume')
  if (lastLog.includes('See you next time!')) t.pass('Prometheus logged its clean exit')
  else t.comment(`the container's log was removed before its last lines were read; last read:\n${lastLog.split('\n').slice(-5).join('\n')}`)

  const kept = await claims()
  t.same(kept.map((c) => c.metadata.uid), [claim?.metadata.uid], 'the claim stays')
  t.equal(kept[0]?.status?.phase, 'Bound')

  await applyResource()
  const again = await readyPod()
  t.not(again.metadata.uid, pod.metadata.uid, 'a new pod')
  t.same(again.spec.volumes?.flatMap((v) => (v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : [])), [claim?.metadata.name], 'on the same claim')
  t.same((await claims()).map((c) => c.metadata.uid), [claim?.metadata.uid], 'with the same UID')
  const after = await selfSamples(again)
  const afterTimes = new Set(after.map(([ts]) => ts))
  t.same(before.filter(([ts]) => !afterTimes.has(ts)), [], `every sample scraped before the delete is still there (${String(before.length)})`)
  t.equal(await instant(again, 'prometheus_tsdb_clean_start'), 1, 'the TSDB opened clean: the previous server had closed it')
})

t.test('a configuration change reaches the running server without a restart', async (t) => {
  const pod = await readyPod()
  const restarts = pod.status.containerStatuses?.[0]?.restartCount
  t.not((await runningConfig(pod)).global?.scrape_interval, '7s')
  const changed = Date.now()
  await k('patch', 'prometheuscluster', name, '-n', ns, '--type=merge', '-p', '{"spec":{"scrapeInterval":"7s"}}')
  await waitForNode('scrape_interval 7s in /api/v1/status/config', async () => (await runningConfig(pod)).global?.scrape_interval === '7s', 150_000)
  t.comment(`reached the running server in ${String((Date.now() - changed) / 1000)}s`)
  const now = await readyPod()
  t.equal(now.metadata.uid, pod.metadata.uid, 'the same pod')
  t.equal(now.status.containerStatuses?.[0]?.restartCount, restarts, 'not restarted')
  t.equal(await instant(now, 'prometheus_config_last_reload_successful'), 1, 'the reload succeeded')
})

t.test('a configuration promtool rejects never reaches the running server', async (t) => {
  const pod = await readyPod()
  const configMapBefore = await renderedConfig(pod)
  // Valid YAML the CRD accepts, but Prometheus refuses a scrape timeout above the interval.
  const rejected = 'global:\n  scrape_interval: 5s\n  scrape_timeout: 1m\nscrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: [localhost:9090]\n'
  await k('patch', 'prometheuscluster', name, '-n', ns, '--type=merge', '-p', JSON.stringify({ spec: { scrapeInterval: null, config: rejected } }))
  const degraded = await waitForNode('the Degraded condition', async () => {
    const c = await condition('Degraded')
    return c?.status === 'True' && c
  })
  t.equal(degraded.reason, 'InvalidConfiguration', degraded.message)
  // The why is in the status conditions, which `kubectl describe` prints; the hook keeps no events.
  const described = await k('describe', 'prometheuscluster', name, '-n', ns)
  t.match(described, /Reason:\s+InvalidConfiguration\n\s+Status:\s+True\n\s+Type:\s+Degraded\n/, 'kubectl describe shows the Degraded condition and its reason')
  t.ok(described.includes(degraded.message.split('\n')[0] ?? '\0'), `kubectl describe shows promtool's message: ${degraded.message}`)
  // Longer than a change took to reach the server above: had it been written, it would be running.
  await new Promise((r) => setTimeout(r, 35_000))
  t.equal(await renderedConfig(pod), configMapBefore, 'the ConfigMap keeps the last good configuration')
  t.equal((await runningConfig(pod)).global?.scrape_interval, '7s', 'the server runs the last good configuration')
  const now = await readyPod()
  t.equal(now.metadata.uid, pod.metadata.uid, 'the same pod, still Ready')
  await k('patch', 'prometheuscluster', name, '-n', ns, '--type=merge', '-p', JSON.stringify({ spec: { config: null, scrapeInterval: '7s' } }))
  await waitForNode('the Degraded condition to clear', async () => (await condition('Degraded'))?.status === 'False')
})

t.test('scaled 1 -> 3 -> 1: every replica a Ready Prometheus on the real node; the scaled-down claims stay', async (t) => {
  const started = Date.now()
  await k('patch', 'prometheuscluster', name, '-n', ns, '--type=merge', '-p', '{"spec":{"replicas":3}}')
  const three = await readyPods(3)
  t.comment(`3 Ready in ${String((Date.now() - started) / 1000)}s`)
  t.same(three.map((p) => p.spec.nodeName), [node.name, node.name, node.name], 'all on the real node')
  for (const p of three) t.equal((await api<{ version: string }>(p, '/api/v1/status/buildinfo')).version.length > 0, true, `${p.metadata.name} answers at ${p.status.podIP ?? ''}`)
  t.equal(new Set(three.map((p) => p.status.podIP)).size, 3, 'each its own pod IP')
  await k('patch', 'prometheuscluster', name, '-n', ns, '--type=merge', '-p', '{"spec":{"replicas":1}}')
  const one = await readyPods(1)
  t.equal(one[0]?.metadata.name, three.map((p) => p.metadata.name).sort()[0], 'the first replica stays')
  t.equal((await claims()).length, 3, 'the scaled-down replicas keep their claims')
})
