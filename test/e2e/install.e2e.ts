// The install as a user runs it, on the real node (harness/lib/real-node.ts, with the kwok node
// cordoned): the README's "Install on a cluster" commands, read from the README and run as they
// are written, build the hook's image (`make image`), install Metacontroller in the cluster from
// its release manifests with this project's overlay, then the hook from that image, first with
// `make install IMAGE=...`, then, after `make uninstall`, with the Helm charts. Each time the hook's
// pods must run that image as uid 65534 on a read-only root filesystem, answer /readyz, and bring a
// PrometheusCluster the user applies (the README's journey) to Ready with a real Prometheus pod.
// Last, one hook pod is deleted during a burst of 20 spec changes, and the final spec must be the
// one rendered. Metacontroller calls the hook through its Service's DNS name and ClusterIP, which
// the node's service network provides (harness/lib/service-network.ts).
//
// Two README steps cannot run here, and the tests that stand in for them say so in their names:
// `kubectl apply -k deploy/metacontroller/` fetches its base from GitHub (no internet here: the
// same overlay is applied over the local copy of that release, which the Metacontroller binary
// was built from), and `docker push` needs a registry (none here: the archive `make image` wrote
// is imported into the node's containerd, which is what a pull would have put there).
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { parse } from 'yaml'
import { ROOT } from '../helpers/env.js'
import { startCluster } from '../../harness/cluster.js'
import { containerArgs, localOverlay, recommendedArgsFile } from '../../harness/lib/metacontroller.js'
import { chownHostPathVolumes, findNodeTools, kubectl, kubectlOk, nodeLogTail, type RealNode, startRealNode } from '../../harness/lib/real-node.js'
import { run } from '../../harness/lib/processes.js'
import { freeServiceCidr } from '../../harness/lib/service-network.js'
import { waitFor } from '../../harness/lib/wait.js'

type Condition = { type: string; status: string; reason?: string; message?: string; observedGeneration?: number }
type Pod = {
  metadata: { name: string; uid: string; deletionTimestamp?: string }
  spec: { nodeName?: string; containers: { name: string; image: string; args?: string[] }[] }
  status: { podIP?: string; conditions?: Condition[]; containerStatuses?: { name: string; image: string; imageID: string; containerID?: string; ready: boolean }[] }
}
type Parent = { metadata: { generation: number }; status?: { observedGeneration?: number; conditions?: Condition[] } }

const HOOK_NS = 'prometheus-cluster-controller'
const HOOK_PODS = 'app.kubernetes.io/name=prometheus-cluster-controller,app.kubernetes.io/component=hook'

// --- The README: the commands of a section's sh blocks, continuation lines joined.
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
function sectionCommands(heading: string): string[] {
  const start = readme.indexOf(`\n## ${heading}\n`)
  if (start === -1) throw new Error(`README.md has no section "## ${heading}"`)
  const end = readme.indexOf('\n## ', start + 1)
  const section = readme.slice(start, end === -1 ? undefined : end)
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)]
    .flatMap((m) => (m[1] ?? '').replace(/\\\n\s*/g, '').split('\n'))
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
}
const install = sectionCommands('Install on a cluster')
const journey = sectionCommands('The journey')
/** The one command of `commands` that starts with `prefix`. */
function command(commands: string[], prefix: string): string {
  const found = commands.filter((c) => c.startsWith(prefix))
  if (found.length !== 1) throw new Error(`README.md: expected one command starting with "${prefix}", found ${String(found.length)}: ${JSON.stringify(commands)}`)
  return found[0] ?? ''
}
const makeImage = command(install, 'make image ')
const image = /\bIMAGE=(\S+)/.exec(makeImage)?.[1] ?? ''
const dockerPush = command(install, 'docker push ')
const makeInstall = command(install, 'make install ')
const helmInstalls = install.filter((c) => c.startsWith('helm upgrade --install '))

// --- The control plane (no Metacontroller process: it runs in the cluster here), the real node
// with Services and DNS for its pods, and every kwok node cordoned.
const cluster = await startCluster({ metacontroller: 'off', serviceCidr: await freeServiceCidr() })
const closers: (() => Promise<void> | void)[] = [() => cluster.stop()]
t.teardown(async () => {
  for (const close of closers.reverse()) await close()
})
// make install writes its certificates into the checkout (git-ignored); when this run made them, it removes them.
const certsDir = join(ROOT, 'metacontroller', 'controller', 'certs')
if (!existsSync(certsDir)) closers.push(() => rmSync(certsDir, { recursive: true, force: true }))

const kTry = (...args: string[]) => kubectl(cluster, args)
const k = (...args: string[]) => kubectlOk(cluster, args)
const getJson = async <T>(...args: string[]): Promise<T> => JSON.parse(await k('get', ...args, '-o', 'json')) as T

const node: RealNode = await startRealNode(cluster, { services: { server: cluster.server, tls: cluster.tls } })
closers.push(() => node.stop())
await chownHostPathVolumes(cluster, 65534, 65534)
for (const n of (await k('get', 'nodes', '-l', 'type=kwok', '-o', 'name')).split('\n').filter((l) => l !== '')) await k('cordon', n)

const waitForNode = <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 180_000): Promise<T> =>
  waitFor(what, probe, { timeoutMs, context: () => `\n--- kubelet ---\n${nodeLogTail(node, 'kubelet', 15)}\n--- containerd ---\n${nodeLogTail(node, 'containerd', 10)}` })

// --- Running the README's commands: bash in the checkout, kubectl and helm pointing at this cluster.
const toolsBin = execFileSync(join(ROOT, 'scripts', 'install-tools.sh'), ['--print-bin-dir'], { encoding: 'utf8' }).trim()
const shellEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries({ ...cluster.env, PATH: `${String(cluster.env.PATH)}:${toolsBin}` }).filter(([key]) => key !== 'NODE_OPTIONS' && key !== 'NODE_V8_COVERAGE' && !key.startsWith('_TAPJS') && !key.startsWith('TAP'))
)
/** Runs `line` with bash in the checkout; resolves to its output, throws with it unless it exits 0. */
async function sh(t: Test, line: string, timeoutMs = 600_000): Promise<string> {
  const started = Date.now()
  const r = await run('bash', ['-c', line], { cwd: ROOT, env: shellEnv, timeoutMs })
  t.comment(`$ ${line}   (${((Date.now() - started) / 1000).toFixed(1)} s, exit ${String(r.code)})`)
  if (r.code !== 0) throw new Error(`${line} exited ${String(r.code)}:\n${r.output.split('\n').slice(-40).join('\n')}`)
  return r.output
}

const isReady = (p: { status: { conditions?: Condition[] } }): boolean => (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
const hookPods = async (): Promise<Pod[]> => (await getJson<{ items: Pod[] }>('pods', '-n', HOOK_NS, '-l', HOOK_PODS)).items

/** The PID, on this machine, of the container's first process (its task in the node's containerd). */
async function containerPid(containerId: string | undefined): Promise<number> {
  const id = containerId?.replace(/^containerd:\/\//, '') ?? ''
  const line = (await node.ctr(['tasks', 'ls'])).split('\n').find((l) => l.startsWith(`${id} `))
  const pid = Number(line?.trim().split(/\s+/)[1])
  if (!id || !Number.isInteger(pid) || pid <= 0) throw new Error(`no task for container ${id} in the node's containerd`)
  return pid
}

/** The config digest of the image in a docker-archive: what the runtime reports as the container's imageID. */
function archiveImageId(archive: string): string {
  const manifest = JSON.parse(execFileSync('tar', ['-xOf', archive, 'manifest.json'], { encoding: 'utf8' })) as { Config: string; RepoTags: string[] }[]
  return `sha256:${(manifest[0]?.Config ?? '').replace(/\.json$/, '')}`
}

let hookImageId = ''

/** Two Ready hook pods from `image` on the real node, as uid 65534, read-only root, /readyz answering. */
async function checkHookPods(t: Test): Promise<Pod[]> {
  const started = Date.now()
  const pods = await waitForNode('the hook Deployment\'s two pods Ready on the real node', async () => {
    const all = (await hookPods()).filter((p) => p.metadata.deletionTimestamp === undefined)
    if (all.length === 2 && all.every(isReady)) return all
    throw new Error(`hook pods: ${JSON.stringify(all.map((p) => ({ name: p.metadata.name, node: p.spec.nodeName, status: p.status.containerStatuses ?? p.status.conditions })))}`)
  })
  t.comment(`two hook pods Ready in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  for (const pod of pods) {
    const container = pod.status.containerStatuses?.find((c) => c.name === 'hook')
    t.equal(pod.spec.nodeName, node.name, `${pod.metadata.name} runs on the real node`)
    t.equal(pod.spec.containers.find((c) => c.name === 'hook')?.image, image, `${pod.metadata.name}'s container is image ${image}`)
    t.equal(container?.imageID, hookImageId, `${pod.metadata.name} runs the image make image built (${hookImageId.slice(0, 19)})`)
    const pid = await containerPid(container?.containerID)
    const status = readFileSync(`/proc/${String(pid)}/status`, 'utf8')
    t.match(status, /^Uid:\s+65534\s+65534\s+65534\s+65534$/m, `${pod.metadata.name}'s process runs as uid 65534`)
    t.match(status, /^Gid:\s+65534\s+65534\s+65534\s+65534$/m, `${pod.metadata.name}'s process runs as gid 65534`)
    const root = readFileSync(`/proc/${String(pid)}/mountinfo`, 'utf8').split('\n').find((l) => l.split(' ')[4] === '/')
    t.match(root?.split(' ')[5] ?? '', /^ro(,|$)/, `${pod.metadata.name}'s root filesystem is mounted read-only`)
    let writeError = ''
    try {
      writeFileSync(`/proc/${String(pid)}/root/app/.pcc-e2e-write`, 'x')
    } catch (error) {
      writeError = (error as NodeJS.ErrnoException).code ?? ''
    }
    t.equal(writeError, 'EROFS', `writing into ${pod.metadata.name}'s /app fails with EROFS`)
    const res = await fetch(`http://${pod.status.podIP ?? ''}:8081/readyz`, { signal: AbortSignal.timeout(5000) })
    const body = (await res.json()) as { status?: string }
    t.equal(res.status, 200, `${pod.metadata.name} answers /readyz at ${pod.status.podIP ?? ''}:8081`)
    t.equal(body.status, 'ready', `${pod.metadata.name} is ready: ${JSON.stringify(body)}`)
  }
  return pods
}

/** Hook calls the pods answered with 200, by their /metrics. */
async function syncCalls(pods: Pod[]): Promise<number> {
  let total = 0
  for (const pod of pods) {
    const text = await (await fetch(`http://${pod.status.podIP ?? ''}:8081/metrics`, { signal: AbortSignal.timeout(5000) })).text()
    for (const m of text.matchAll(/^pcc_hook_requests_total\{[^}]*hook="sync"[^}]*code="200"[^}]*\} (\d+)/gm)) total += Number(m[1])
  }
  return total
}

/** The README's journey: a namespace, examples/simple.yaml applied; Ready with a real Prometheus pod on the real node. */
async function journeyToReady(t: Test): Promise<void> {
  const started = Date.now()
  for (const line of journey) await sh(t, line)
  const name = (parse(readFileSync(join(ROOT, 'examples', 'simple.yaml'), 'utf8')) as { metadata: { name: string } }).metadata.name
  const pod = await waitForNode(`${name} Ready with a Ready Prometheus pod on the real node`, async () => {
    const parent = await getJson<Parent>('prometheuscluster', name, '-n', 'example')
    const pods = (await getJson<{ items: Pod[] }>('pods', '-n', 'example', '-l', `app.kubernetes.io/instance=${name}`)).items
    const ready = parent.status?.conditions?.find((c) => c.type === 'Ready')
    if (ready?.status === 'True' && pods.length === 1 && pods.every(isReady)) return pods[0]
    throw new Error(`status: ${JSON.stringify(parent.status?.conditions)}; pods: ${JSON.stringify(pods.map((p) => p.status.containerStatuses ?? p.status.conditions))}`)
  }, 300_000)
  t.comment(`PrometheusCluster Ready in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  t.equal(pod.spec.nodeName, node.name, 'its Prometheus pod runs on the real node')
  const build = (await (await fetch(`http://${pod.status.podIP ?? ''}:9090/api/v1/status/buildinfo`, { signal: AbortSignal.timeout(5000) })).json()) as { data: { version: string } }
  t.ok(build.data.version, `a real Prometheus answers at ${pod.status.podIP ?? ''}:9090 (version ${build.data.version})`)
}

t.test(`the hook image from "${makeImage}" (no Docker engine here: scripts/build-image.sh; imported into the node instead of "${dockerPush}")`, async (t) => {
  t.not(image, 'prometheus-cluster-controller:0.1.0', 'the README installs an image other than the default, so IMAGE= must be honoured')
  const archive = join(cluster.dir, 'hook-image.tar')
  const started = Date.now()
  await sh(t, `${makeImage} IMAGE_BUILDER=archive IMAGE_ARCHIVE=${archive}`, 900_000)
  t.comment(`make image took ${((Date.now() - started) / 1000).toFixed(1)} s`)
  const manifest = JSON.parse(execFileSync('tar', ['-xOf', archive, 'manifest.json'], { encoding: 'utf8' })) as { RepoTags: string[] }[]
  t.same(manifest.map((m) => m.RepoTags), [[image]], 'the archive holds one image, named IMAGE')
  hookImageId = archiveImageId(archive)

  const { metacontrollerImage } = findNodeTools()
  if (metacontrollerImage === undefined) throw new Error('scripts/install-node-tools.sh images built no Metacontroller image (images.json has no metacontrollerImage)')
  const importStarted = Date.now()
  for (const a of [archive, metacontrollerImage.archive]) await node.ctr(['images', 'import', a])
  t.comment(`imported both images into the node's containerd in ${((Date.now() - importStarted) / 1000).toFixed(1)} s`)
  const refs = (await node.ctr(['images', 'ls', '-q'])).split('\n')
  t.ok(refs.includes(image), `the node has ${image}`)
  const release = readFileSync(join(cluster.binaries.metacontrollerManifests, 'metacontroller.yaml'), 'utf8')
  const releaseImage = /^\s+image:\s*(\S+)$/m.exec(release)?.[1]
  t.equal(metacontrollerImage.ref, releaseImage, 'the Metacontroller image is named as its release StatefulSet names it')
  t.ok(refs.includes(metacontrollerImage.ref), `the node has ${metacontrollerImage.ref}`)
})

t.test('Metacontroller in the cluster from its release manifests with deploy/metacontroller (no internet here: the overlay over the local copy of the release instead of its GitHub base)', async (t) => {
  t.ok(install.includes('kubectl apply -k deploy/metacontroller/'), 'the README installs it with kubectl apply -k deploy/metacontroller/')
  const overlay = localOverlay(join(cluster.dir, 'metacontroller-install'), cluster.binaries.metacontrollerManifests)
  const started = Date.now()
  await sh(t, `kubectl apply -k ${overlay}`)
  const pod = await waitForNode('Metacontroller\'s pod Ready', async () => {
    const pods = (await getJson<{ items: Pod[] }>('pods', '-n', 'metacontroller', '-l', 'app.kubernetes.io/name=metacontroller')).items
    if (pods.length === 1 && pods.every(isReady)) return pods[0]
    throw new Error(`pods: ${JSON.stringify(pods.map((p) => p.status.containerStatuses ?? p.status.conditions))}`)
  })
  t.comment(`Metacontroller Ready in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  t.equal(pod.spec.nodeName, node.name, 'on the real node')
  const container = pod.spec.containers.find((c) => c.name === 'metacontroller')
  t.same(container?.args, containerArgs(recommendedArgsFile), 'with the args of deploy/metacontroller/args.yaml')
  t.equal(pod.status.containerStatuses?.[0]?.image, findNodeTools().metacontrollerImage?.ref, 'from the release image, built here')
})

t.test(`make install: "${makeInstall}"`, async (t) => {
  await sh(t, makeInstall)
  const pods = await checkHookPods(t)
  const deployment = await getJson<{ spec: { replicas: number } }>('deployment', 'prometheus-cluster-controller', '-n', HOOK_NS)
  t.equal(deployment.spec.replicas, 2, 'two replicas')
  const service = await getJson<{ spec: { clusterIP: string; ports: { port: number }[] } }>('service', 'prometheus-cluster-controller', '-n', HOOK_NS)
  t.same(service.spec.ports.map((p) => p.port), [443], 'its Service, port 443')
  await journeyToReady(t)
  t.ok((await syncCalls(pods)) > 0, 'Metacontroller called the hook pods through the Service (sync answered 200 over mutual TLS)')

  // Everything goes again, as the README's uninstall says, before the Helm install.
  await sh(t, 'kubectl delete -f examples/simple.yaml -n example --timeout=180s')
  await sh(t, 'make uninstall DELETE_NAMESPACE=1')
  await sh(t, 'make uninstall-crd CONFIRM=yes')
  await sh(t, 'kubectl delete namespace example --timeout=180s')
  await waitForNode(`namespace ${HOOK_NS} gone`, async () => (await kTry('get', 'namespace', HOOK_NS)).code !== 0)
})

t.test(`Helm: "${helmInstalls.join('" and "')}"`, async (t) => {
  t.equal(helmInstalls.length, 2, 'the README installs the CRD chart and the controller chart')
  for (const line of helmInstalls) await sh(t, line)
  await checkHookPods(t)
  await journeyToReady(t)
})

t.test('the hook pod Metacontroller is calling, deleted during a burst of 20 spec changes: no update is lost', async (t) => {
  const name = 'simple-prometheus-instance'
  const before = await hookPods()
  const callsBefore = await Promise.all(before.map((p) => syncCalls([p])))
  const patches = Array.from({ length: 20 }, (_, i) => ({ spec: { retention: `${String(11 + i)}d`, externalLabels: { burst: String(i + 1) } } }))
  let victim: Pod | undefined
  let deletedAt = 0
  for (const [i, patch] of patches.entries()) {
    await k('patch', 'prometheuscluster', name, '-n', 'example', '--type=merge', '-p', JSON.stringify(patch))
    if (i === 4) {
      // The pod that answered most of the first five changes' syncs: the one Metacontroller's
      // connection goes to.
      const callsNow = await Promise.all(before.map((p) => syncCalls([p])))
      const served = callsNow.map((n, j) => n - (callsBefore[j] ?? 0))
      const busiest = served.indexOf(Math.max(...served))
      victim = before[busiest]
      t.ok((served[busiest] ?? 0) > 0, `${victim?.metadata.name ?? ''} answered ${String(served[busiest])} of the syncs of the first five changes (the other: ${String(served[1 - busiest])})`)
      await k('delete', 'pod', victim?.metadata.name ?? '', '-n', HOOK_NS, '--wait=false')
      deletedAt = Date.now()
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  const deleted = victim
  if (deleted === undefined) throw new Error('no hook pod was deleted')
  const lastPatch = Date.now()
  t.ok(deletedAt > 0 && deletedAt < lastPatch, `${deleted.metadata.name} was deleted after the 5th change, ${((lastPatch - deletedAt) / 1000).toFixed(1)} s before the last`)
  const final = patches.at(-1)?.spec
  const converged = await waitForNode('the 20th change rendered and observed', async () => {
    const parent = await getJson<Parent>('prometheuscluster', name, '-n', 'example')
    const sts = await getJson<{ spec: { template: { spec: { containers: { name: string; args?: string[] }[] } } } }>('statefulset', `promcluster-${name}`, '-n', 'example')
    const args = sts.spec.template.spec.containers.find((c) => c.name === 'prometheus')?.args ?? []
    const configMaps = (await getJson<{ items: { data?: Record<string, string> }[] }>('configmaps', '-n', 'example', '-l', `app.kubernetes.io/instance=${name}`)).items
    const config = configMaps.flatMap((c) => Object.values(c.data ?? {})).find((v) => v.includes('scrape_configs')) ?? ''
    const labels = (parse(config) as { global?: { external_labels?: Record<string, string> } } | null)?.global?.external_labels
    const state = { generation: parent.metadata.generation, observed: parent.status?.observedGeneration, retention: args.find((a) => a.startsWith('--storage.tsdb.retention.time=')), labels }
    if (state.observed === state.generation && state.retention === `--storage.tsdb.retention.time=${final?.retention ?? ''}` && labels?.burst === final?.externalLabels.burst) return state
    throw new Error(JSON.stringify(state))
  })
  t.comment(`converged ${((Date.now() - lastPatch) / 1000).toFixed(1)} s after the last change: ${JSON.stringify(converged)}`)
  t.equal(converged.observed, converged.generation, 'status.observedGeneration is the last generation')
  const pods = await checkHookPods(t)
  t.notOk(pods.some((p) => p.metadata.uid === deleted.metadata.uid), 'the deleted hook pod was replaced')
  const parent = await getJson<Parent>('prometheuscluster', name, '-n', 'example')
  t.ok(parent.status?.conditions?.every((c) => c.observedGeneration === undefined || c.observedGeneration === parent.metadata.generation), 'every condition is of the last generation')
})
