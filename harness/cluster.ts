// A real Kubernetes control plane as plain processes on 127.0.0.1, for the e2e suite and the demo:
// etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok with fake nodes, a default
// StorageClass with pre-created hostPath PersistentVolumes, and Metacontroller v4.17.2 (built from its
// source by scripts/install-e2e-tools.sh, run with the flags of deploy/metacontroller/args.yaml, see
// lib/metacontroller.ts). Certificates, kubeconfig, data and logs live in one temp directory, removed by stop().
//
//   const cluster = await startCluster()
//   await cluster.kubectl(['get', 'nodes'])
//   await cluster.stop()
//
//   npx tsx harness/cluster.ts up     start it, print how to use it, stop on Ctrl-C
//
// Binaries: scripts/install-e2e-tools.sh (see harness/lib/binaries.ts for the overrides).
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { rmSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { findBinaries, type Binaries } from './lib/binaries.js'
import { metacontrollerArgs, withArgs, type MetacontrollerFlags } from './lib/metacontroller.js'
import { defaultStorageClass, fakeNode, hostPathVolume, list, type NodeResources } from './lib/manifests.js'
import { makePki, writeKubeconfig, type Pki } from './lib/pki.js'
import { run, Supervisor, tail, type Managed } from './lib/processes.js'
import type { ClientTls } from './lib/watch.js'

export interface ClusterOptions {
  /** Fake nodes kwok manages (default 1), named kwok-node-0, kwok-node-1, ... */
  nodes?: number
  /** Each fake node's capacity (default 64 CPUs, 256Gi, 500 pods). */
  nodeResources?: Partial<NodeResources>
  /** hostPath PersistentVolumes created up front (default 20), named e2e-pv-000, ... */
  persistentVolumes?: number
  /** Each volume's capacity (default 100Gi). */
  volumeCapacity?: string
  /**
   * The Services' address range (default 10.96.0.0/16). Its first address is the `kubernetes`
   * Service's, which the API server's certificate names. A real node with services
   * (lib/real-node.ts) puts ClusterIPs on its bridge: give each such cluster a range of its own
   * (lib/service-network.ts's freeServiceCidr).
   */
  serviceCidr?: string
  /** Metacontroller: 'required' (default) installs its CRDs and runs it; 'off' does neither. */
  metacontroller?: 'required' | 'off'
  /**
   * Its flags: 'recommended' (default; deploy/metacontroller/args.yaml) or 'defaults' (the args of
   * its release StatefulSet, so its own defaults for QPS, burst and workers).
   */
  metacontrollerFlags?: MetacontrollerFlags
  /** Extra arguments for metacontroller; each replaces the flag of the same name. */
  metacontrollerArgs?: string[]
  /**
   * Serve Go's CPU and heap profiles (/debug/pprof) from kube-apiserver, kube-controller-manager,
   * kube-scheduler and Metacontroller (default false): Cluster.profileUrls says where.
   */
  profiling?: boolean
  /** Keep the temp directory (logs, data) after stop(); also PCC_E2E_KEEP=1. */
  keepTempDir?: boolean
  /** Overrides for the binaries found by findBinaries(). */
  binaries?: Partial<Binaries>
  /** Per-component start timeout (default 60 s). */
  startTimeoutMs?: number
  /** Progress messages (default: to stderr, prefixed with "e2e cluster:"). */
  log?: (message: string) => void
}

export interface KubectlResult {
  stdout: string
  stderr: string
  code: number
}

export interface KubectlOptions {
  /** Written to kubectl's stdin (use with -f -). */
  input?: string
  /** Kill kubectl after this long (default 10 min, a guard against a hung call; `kubectl wait --timeout` is the way to bound a wait); the result then has code 124. */
  timeoutMs?: number
}

export interface ProcessOptions {
  /** Its environment (default: process.env with KUBECONFIG pointing at the admin kubeconfig). */
  env?: NodeJS.ProcessEnv
  /** Polled until it returns true (a throw counts as false); the start fails with the end of the log when the process exits first or startTimeoutMs passes. */
  ready?: { what: string; check: () => Promise<boolean> }
  /** Default: the cluster's per-component start timeout. */
  timeoutMs?: number
}

export interface SupervisedProcess {
  managed: Managed
  /** SIGTERM, then SIGKILL after 5 s. stop() of the cluster stops it too. */
  stop(): Promise<void>
}

export interface Cluster {
  /** The run's temp directory: certificates, data, <component>.log. */
  dir: string
  /** Path of the admin kubeconfig (O=system:masters). */
  kubeconfig: string
  /** https://127.0.0.1:<port> */
  server: string
  /** The CA and the admin client certificate (PEM files), for talking to the API server directly (lib/watch.ts). */
  tls: ClientTls
  binaries: Binaries
  /** The kubectl binary (binaries.kubectl); pass --kubeconfig or use env. */
  kubectlPath: string
  /** Whether Metacontroller runs (with its CRDs installed). */
  metacontroller: boolean
  /** The arguments Metacontroller runs with (empty when it does not). */
  metacontrollerArgs: string[]
  /** http://127.0.0.1:<port>/metrics of Metacontroller (undefined when it does not run). */
  metacontrollerMetricsUrl: string | undefined
  /** process.env plus KUBECONFIG, with kubectl's directory first on PATH: for child processes. */
  env: NodeJS.ProcessEnv
  /** Runs kubectl against the cluster; never throws for a non-zero exit. */
  kubectl(args: string[], options?: KubectlOptions): Promise<KubectlResult>
  /** Like kubectl(), but throws with stderr unless kubectl exits 0; returns stdout. */
  kubectlOk(args: string[], options?: KubectlOptions): Promise<string>
  /** kubectl apply -f - of YAML or JSON text, or of objects (sent as a List). */
  apply(manifest: string | object[]): Promise<string>
  /** Each profiled component's /debug/pprof/ base URL (ClusterOptions.profiling; empty without it). The https ones take the admin client certificate. */
  profileUrls: Record<string, string>
  /** The running components' process ids, by name (for CPU and memory figures). */
  pids(): Record<string, number>
  /** The log file of a component: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok, metacontroller. */
  logFile(component: string): string
  /**
   * Starts another process beside the control plane (a controller a scenario runs out of cluster,
   * such as harness/prometheus-operator.ts), logging to <name>.log in the run's directory and
   * stopped like the components: by stop(), a signal or the test process's exit.
   */
  startProcess(name: string, command: string, args: string[], options?: ProcessOptions): Promise<SupervisedProcess>
  /** Stops every process (SIGTERM, then SIGKILL) and removes the temp directory. Idempotent. */
  stop(): Promise<void>
}

const defaultServiceCidr = '10.96.0.0/16'

/** The first address of an IPv4 range: the `kubernetes` Service's ClusterIP. */
function firstAddress(cidr: string): string {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr)
  if (!m) throw new Error(`not an IPv4 range: ${cidr}`)
  const ip = m.slice(1, 5).reduce((a, o) => a * 256 + Number(o), 0)
  const mask = 2 ** 32 - 2 ** (32 - Number(m[5]))
  const first = (ip & mask) >>> 0
  return [24, 16, 8, 0].map((shift) => String(((first + 1) >>> shift) & 255)).join('.')
}

const defaultNodeResources: NodeResources = { cpu: '64', memory: '256Gi', pods: '500' }

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port)
        else reject(new Error('no port'))
      })
    })
  })
}

/** GET over http(s) on loopback; true for a 200. TLS is not verified: this is a liveness poll. */
async function httpOk(url: string): Promise<boolean> {
  if (url.startsWith('http:')) {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) })
    await res.arrayBuffer()
    return res.ok
  }
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { rejectUnauthorized: false, timeout: 2000 }, (res) => {
      res.resume()
      res.once('end', () => resolve(res.statusCode === 200))
    })
    req.once('timeout', () => req.destroy(new Error('timeout')))
    req.once('error', reject)
    req.end()
  })
}

const dirPrefix = 'pcc-e2e-cluster-'
const ownerFile = 'owner.pid'

/**
 * Removes the directories of earlier runs whose process was killed before it could clean up
 * (kill -9; their components died with it, see lib/processes.ts): only directories with this
 * harness's prefix and an owner.pid naming a process that no longer exists.
 */
async function sweepStaleDirs(): Promise<void> {
  const entries = await readdir(tmpdir()).catch(() => [] as string[])
  for (const entry of entries.filter((e) => e.startsWith(dirPrefix))) {
    const dir = join(tmpdir(), entry)
    const pid = Number((await readFile(join(dir, ownerFile), 'utf8').catch(() => '')).trim())
    if (!Number.isInteger(pid) || pid <= 0) continue
    try {
      process.kill(pid, 0)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') await rm(dir, { recursive: true, force: true })
    }
  }
}

// Every cluster this process started, for the exit and signal handlers.
const live = new Set<{ supervisor: Supervisor; dir: string; keep: boolean }>()
let handlersInstalled = false
function installHandlers(): void {
  if (handlersInstalled) return
  handlersInstalled = true
  // 'exit' cannot wait: SIGKILL what is still running and remove the directories synchronously.
  process.once('exit', () => {
    for (const c of live) {
      c.supervisor.killAllNow()
      if (!c.keep) rmSync(c.dir, { recursive: true, force: true })
    }
  })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`e2e cluster: ${signal}, stopping\n`)
      void Promise.allSettled([...live].map((c) => c.supervisor.stopAll(['etcd'], 3000))).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143))
    })
  }
}

type Kubectl = Pick<Cluster, 'kubectl' | 'kubectlOk' | 'apply'>

/** kubectl against `kubeconfig`: never throwing for an exit (kubectl), throwing (kubectlOk), applying (apply). */
function kubectlFor(kubectlPath: string, kubeconfig: string): Kubectl {
  const kubectl = (args: string[], opts: KubectlOptions = {}): Promise<KubectlResult> =>
    run(kubectlPath, [`--kubeconfig=${kubeconfig}`, ...args], { input: opts.input, timeoutMs: opts.timeoutMs ?? 600_000, env: { ...process.env, KUBECONFIG: kubeconfig } })
  const kubectlOk = async (args: string[], opts?: KubectlOptions): Promise<string> => {
    const result = await kubectl(args, opts)
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`)
    return result.stdout
  }
  const apply = (manifest: string | object[]): Promise<string> =>
    kubectlOk(['apply', '-f', '-'], { input: typeof manifest === 'string' ? manifest : list(manifest) })
  return { kubectl, kubectlOk, apply }
}

/** What every start-up step works with. */
interface Run extends Kubectl {
  dir: string
  kubeconfig: string
  binaries: Binaries
  supervisor: Supervisor
  pki: Pki
  serviceCidr: string
  /** Per-component start timeout. */
  timeout: number
  /** ClusterOptions.profiling: component name -> its /debug/pprof/ URL, filled as they start. */
  profileUrls: Record<string, string> | undefined
  /** Logs a step with the time since the start. */
  step(message: string): void
}

/** etcd, its data in the run's directory without fsync (the data is thrown away anyway); resolves to its client URL. */
async function startEtcd(run: Run): Promise<string> {
  const [client, peer] = await Promise.all([freePort(), freePort()])
  const url = (port: number) => `http://127.0.0.1:${String(port)}`
  const etcd = run.supervisor.start('etcd', run.binaries.etcd, [
    '--name=e2e',
    `--data-dir=${join(run.dir, 'etcd')}`,
    `--listen-client-urls=${url(client)}`,
    `--advertise-client-urls=${url(client)}`,
    `--listen-peer-urls=${url(peer)}`,
    `--initial-advertise-peer-urls=${url(peer)}`,
    `--initial-cluster=e2e=${url(peer)}`,
    '--unsafe-no-fsync=true',
    '--log-level=warn'
  ])
  await run.supervisor.waitReady(etcd, 'healthy', () => httpOk(`${url(client)}/health`), run.timeout)
  run.step('etcd ready')
  return url(client)
}

/** kube-apiserver on `port`, RBAC on, serving the run's certificates. */
async function startApiserver(run: Run, etcd: string, port: number): Promise<void> {
  const { pki } = run
  const apiserver = run.supervisor.start('kube-apiserver', run.binaries.kubeApiserver, [
    `--etcd-servers=${etcd}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${String(port)}`,
    `--cert-dir=${join(run.dir, 'apiserver-certs')}`,
    `--tls-cert-file=${pki.apiserverCert}`,
    `--tls-private-key-file=${pki.apiserverKey}`,
    `--client-ca-file=${pki.caCert}`,
    `--service-cluster-ip-range=${run.serviceCidr}`,
    `--service-account-key-file=${pki.serviceAccountPub}`,
    `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    '--authorization-mode=RBAC',
    '--allow-privileged=true',
    `--profiling=${String(run.profileUrls !== undefined)}`,
    // The kubernetes Service's endpoints would be 127.0.0.1, which Endpoints reject (loopback):
    // nothing in this cluster reaches the API server through the Service anyway.
    '--endpoint-reconciler-type=none'
  ])
  if (run.profileUrls) run.profileUrls['kube-apiserver'] = `https://127.0.0.1:${String(port)}/debug/pprof/`
  await run.supervisor.waitReady(apiserver, 'ready (/readyz)', async () => (await run.kubectl(['get', '--raw', '/readyz'], { timeoutMs: 5000 })).stdout.trim() === 'ok', run.timeout)
  run.step(`kube-apiserver ready on port ${String(port)}`)
}

/** kube-controller-manager, kube-scheduler and kwok, started; waitControllers waits for them. */
async function startControllers(run: Run): Promise<{ managed: Managed[]; health: string[] }> {
  const { pki } = run
  const [kcmPort, schedulerPort, kwokPort] = await Promise.all([freePort(), freePort(), freePort()])
  // No --authentication-kubeconfig/--authorization-kubeconfig: their health endpoints are open
  // anyway, and with them both components would poll for the front-proxy CA this API server lacks.
  const authFlags = [`--kubeconfig=${run.kubeconfig}`]
  // Without an authorization kubeconfig only these paths are served; profiles are opt-in.
  const profiling = run.profileUrls
    ? ['--profiling=true', '--authorization-always-allow-paths=/healthz,/readyz,/livez,/debug/pprof/*']
    : ['--profiling=false']
  const kcm = run.supervisor.start('kube-controller-manager', run.binaries.kubeControllerManager, [
    ...authFlags,
    '--bind-address=127.0.0.1',
    `--secure-port=${String(kcmPort)}`,
    `--cert-dir=${join(run.dir, 'kcm-certs')}`,
    '--controllers=*',
    '--leader-elect=false',
    '--use-service-account-credentials=false',
    `--service-account-private-key-file=${pki.serviceAccountKey}`,
    `--root-ca-file=${pki.caCert}`,
    `--cluster-signing-cert-file=${pki.caCert}`,
    `--cluster-signing-key-file=${pki.caKey}`,
    `--service-cluster-ip-range=${run.serviceCidr}`,
    // The e2e suite and the benchmark create many objects at once: client-go's defaults (20/30) would throttle.
    '--kube-api-qps=200',
    '--kube-api-burst=400',
    '--concurrent-statefulset-syncs=10',
    ...profiling
  ])
  const scheduler = run.supervisor.start('kube-scheduler', run.binaries.kubeScheduler, [
    ...authFlags,
    '--bind-address=127.0.0.1',
    `--secure-port=${String(schedulerPort)}`,
    '--leader-elect=false',
    '--kube-api-qps=200',
    '--kube-api-burst=400',
    ...profiling
  ])
  const kwok = run.supervisor.start('kwok', run.binaries.kwok, [
    `--kubeconfig=${run.kubeconfig}`,
    `--config=${run.binaries.kwokStages}`,
    '--manage-all-nodes=false',
    '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
    `--server-address=127.0.0.1:${String(kwokPort)}`,
    '--node-ip=127.0.0.1',
    '--node-lease-duration-seconds=40',
    '--cidr=10.244.0.0/16'
  ])
  if (run.profileUrls) {
    run.profileUrls['kube-controller-manager'] = `https://127.0.0.1:${String(kcmPort)}/debug/pprof/`
    run.profileUrls['kube-scheduler'] = `https://127.0.0.1:${String(schedulerPort)}/debug/pprof/`
  }
  return {
    managed: [kcm, scheduler, kwok],
    health: [`https://127.0.0.1:${String(kcmPort)}/healthz`, `https://127.0.0.1:${String(schedulerPort)}/healthz`, `http://127.0.0.1:${String(kwokPort)}/healthz`]
  }
}

/** A default StorageClass, hostPath PersistentVolumes and kwok's fake nodes; resolves to the nodes' names. */
async function createStorageAndNodes(run: Run, options: ClusterOptions): Promise<string[]> {
  const volumes: object[] = []
  for (let i = 0; i < (options.persistentVolumes ?? 20); i++) {
    const name = `e2e-pv-${String(i).padStart(3, '0')}`
    const path = join(run.dir, 'volumes', name)
    await mkdir(path, { recursive: true })
    volumes.push(hostPathVolume(name, path, options.volumeCapacity ?? '100Gi'))
  }
  const resources = { ...defaultNodeResources, ...options.nodeResources }
  const nodeNames = Array.from({ length: options.nodes ?? 1 }, (_, i) => `kwok-node-${String(i)}`)
  await run.apply([defaultStorageClass(), ...volumes, ...nodeNames.map((n) => fakeNode(n, resources))])
  return nodeNames
}

/**
 * Waits until the controllers answer their health checks and are working: the service account
 * controller has made the default namespace's account (pods cannot be admitted before), and kwok
 * has made every node Ready.
 */
async function waitControllers(run: Run, controllers: { managed: Managed[]; health: string[] }, nodeNames: string[]): Promise<void> {
  const [kcm, , kwok] = controllers.managed
  await Promise.all(controllers.managed.map((m, i) => run.supervisor.waitReady(m, 'healthy (/healthz)', () => httpOk(controllers.health[i] ?? ''), run.timeout)))
  if (!kcm || !kwok) return
  await Promise.all([
    run.supervisor.waitReady(kcm, 'making ServiceAccount default/default', async () => (await run.kubectl(['get', 'serviceaccount', 'default', '-n', 'default', '-o', 'name'])).code === 0, run.timeout),
    run.supervisor.waitReady(kwok, `making ${nodeNames.join(', ')} Ready`, async () => {
      const out = await run.kubectlOk(['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}'])
      const ready = new Set(out.split('\n').filter((l) => l.endsWith('=True')).map((l) => l.slice(0, -'=True'.length)))
      return nodeNames.every((n) => ready.has(n))
    }, run.timeout)
  ])
}

/** Metacontroller's CRDs and Metacontroller itself with `args`; resolves to its metrics URL. */
async function startMetacontroller(run: Run, args: string[]): Promise<string> {
  const manifests = run.binaries.metacontrollerManifests
  await run.kubectlOk(['apply', '-f', join(manifests, 'metacontroller-crds-v1.yaml')])
  await run.kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', 'crd/compositecontrollers.metacontroller.k8s.io', 'crd/decoratorcontrollers.metacontroller.k8s.io'])
  const [metrics, health, pprof] = await Promise.all([freePort(), freePort(), freePort()])
  const profiling = run.profileUrls ? [`--pprof-address=127.0.0.1:${String(pprof)}`] : []
  if (run.profileUrls) run.profileUrls.metacontroller = `http://127.0.0.1:${String(pprof)}/debug/pprof/`
  const metacontroller = run.supervisor.start(
    'metacontroller',
    run.binaries.metacontroller,
    [...args, `--metrics-address=127.0.0.1:${String(metrics)}`, `--health-probe-bind-address=127.0.0.1:${String(health)}`, ...profiling],
    // controller-runtime reads KUBECONFIG.
    { ...process.env, KUBECONFIG: run.kubeconfig }
  )
  await run.supervisor.waitReady(metacontroller, 'ready (/readyz)', () => httpOk(`http://127.0.0.1:${String(health)}/readyz`), run.timeout)
  run.step(`metacontroller ready, ${args.join(' ')}`)
  return `http://127.0.0.1:${String(metrics)}/metrics`
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const log = options.log ?? ((m: string) => process.stderr.write(`e2e cluster: ${m}\n`))
  const keep = options.keepTempDir ?? ['1', 'true', 'yes'].includes(process.env.PCC_E2E_KEEP ?? '')
  const binaries = { ...findBinaries(), ...options.binaries }
  const runMetacontroller = (options.metacontroller ?? 'required') === 'required'
  const mcArgs = runMetacontroller
    ? withArgs(metacontrollerArgs(options.metacontrollerFlags ?? 'recommended', binaries.metacontrollerManifests), options.metacontrollerArgs ?? [])
    : []

  const started = Date.now()
  await sweepStaleDirs()
  const dir = await mkdtemp(join(tmpdir(), dirPrefix))
  await writeFile(join(dir, ownerFile), `${String(process.pid)}\n`)
  const supervisor = new Supervisor(dir)
  const handle = { supervisor, dir, keep }
  live.add(handle)
  installHandlers()

  const kubeconfig = join(dir, 'admin.kubeconfig')
  const kubectl = kubectlFor(binaries.kubectl, kubeconfig)
  let stopped: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await supervisor.stopAll(['etcd'])
      live.delete(handle)
      if (keep) log(`kept ${dir}`)
      else await rm(dir, { recursive: true, force: true })
    })()
    return stopped
  }

  try {
    const apiserverPort = await freePort()
    const server = `https://127.0.0.1:${String(apiserverPort)}`
    const serviceCidr = options.serviceCidr ?? defaultServiceCidr
    const pki = await makePki(dir, firstAddress(serviceCidr))
    await writeKubeconfig(kubeconfig, server, pki)
    const profileUrls = options.profiling === true ? {} : undefined
    const run: Run = { ...kubectl, dir, kubeconfig, binaries, supervisor, pki, serviceCidr, profileUrls, timeout: options.startTimeoutMs ?? 60_000, step: (m) => log(`${m} (${elapsed(started)})`) }

    await startApiserver(run, await startEtcd(run), apiserverPort)
    const controllers = await startControllers(run)
    // Storage and nodes while the controllers start.
    const nodeNames = await createStorageAndNodes(run, options)
    await waitControllers(run, controllers, nodeNames)
    run.step(`controller manager, scheduler, kwok ready; ${String(nodeNames.length)} node(s), ${String(options.persistentVolumes ?? 20)} volume(s)`)
    const metacontrollerMetricsUrl = runMetacontroller ? await startMetacontroller(run, mcArgs) : undefined

    log(`cluster up in ${elapsed(started)}; KUBECONFIG=${kubeconfig}`)
    return {
      dir,
      kubeconfig,
      server,
      tls: { ca: pki.caCert, cert: pki.adminCert, key: pki.adminKey },
      binaries,
      kubectlPath: binaries.kubectl,
      metacontroller: runMetacontroller,
      metacontrollerArgs: mcArgs,
      metacontrollerMetricsUrl,
      profileUrls: { ...profileUrls },
      env: { ...process.env, KUBECONFIG: kubeconfig, PATH: `${dirname(binaries.kubectl)}:${process.env.PATH ?? ''}` },
      ...kubectl,
      logFile: (component) => supervisor.logFile(component),
      startProcess: async (name, command, args, processOptions = {}) => {
        const managed = supervisor.start(name, command, args, processOptions.env ?? { ...process.env, KUBECONFIG: kubeconfig })
        const supervised = { managed, stop: () => supervisor.stopOne(managed) }
        if (processOptions.ready !== undefined) {
          try {
            await supervisor.waitReady(managed, processOptions.ready.what, processOptions.ready.check, processOptions.timeoutMs ?? run.timeout)
          } catch (error) {
            await supervised.stop()
            throw error
          }
        }
        return supervised
      },
      pids: () => Object.fromEntries(supervisor.processes.flatMap((m) => (m.exit === undefined && m.child.pid !== undefined ? [[m.name, m.child.pid]] : []))),
      stop
    }
  } catch (error) {
    // A ComponentError carries the end of the failing component's log; PCC_E2E_KEEP=1 keeps them all.
    await supervisor.stopAll(['etcd'], 2000)
    live.delete(handle)
    if (keep) log(`kept ${dir}`)
    else await rm(dir, { recursive: true, force: true })
    throw error
  }
}

function elapsed(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)}s`
}

/** The end of a component's log, for assertion messages. */
export function logTail(cluster: Cluster, component: string, lines = 30): string {
  return tail(cluster.logFile(component), lines)
}

export type { Managed }

async function main(argv: string[]): Promise<void> {
  const command = argv[0]
  if (command !== 'up') {
    process.stderr.write('usage: npx tsx harness/cluster.ts up [--nodes N] [--volumes N] [--no-metacontroller | --metacontroller-defaults]\n')
    process.exit(command === undefined || command === '-h' || command === '--help' ? 0 : 2)
  }
  const flag = (name: string): string | undefined => {
    const i = argv.indexOf(name)
    return i === -1 ? undefined : argv[i + 1]
  }
  const cluster = await startCluster({
    nodes: Number(flag('--nodes') ?? 1),
    persistentVolumes: Number(flag('--volumes') ?? 20),
    metacontroller: argv.includes('--no-metacontroller') ? 'off' : 'required',
    metacontrollerFlags: argv.includes('--metacontroller-defaults') ? 'defaults' : 'recommended'
  })
  const kubectlDir = dirname(cluster.binaries.kubectl)
  process.stdout.write(
    [
      '',
      'The control plane is up on 127.0.0.1. In another shell:',
      '',
      `  export KUBECONFIG=${cluster.kubeconfig}`,
      `  export PATH=${kubectlDir}:$PATH`,
      '  kubectl get nodes,storageclass,pv',
      '',
      `Logs: ${cluster.dir}/<component>.log (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok${cluster.metacontroller ? ', metacontroller' : ''})`,
      cluster.metacontroller ? `Metacontroller is running: ${cluster.binaries.metacontroller} ${cluster.metacontrollerArgs.join(' ')}` : 'Metacontroller is not running (--no-metacontroller).',
      'Ctrl-C stops everything and removes the directory.',
      ''
    ].join('\n')
  )
  await writeFile(join(cluster.dir, 'READY'), `${cluster.kubeconfig}\n`)
  // The signal handlers stop the cluster and exit; the timer keeps the event loop alive until then.
  setInterval(() => undefined, 1 << 30)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`e2e cluster: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  })
}
