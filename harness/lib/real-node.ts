// A real node beside the control plane's kwok node, for tests that need real pods: Debian's
// containerd and runc, and a kubelet built from the Kubernetes wrapper module, with pods on a CNI
// bridge that has a /24 of this machine to itself. Everything it writes lives in <cluster dir>/node
// (containerd's root, state and socket, the CNI configuration and IP allocations, the kubelet's root
// and the pods' logs); it listens on 127.0.0.1 only; pod IPs are addresses on its own bridge. With
// the services option, the pods also get Services and cluster DNS (lib/service-network.ts), which
// listen on addresses of that bridge.
//
//   const cluster = await startCluster()
//   const node = await startRealNode(cluster)   // Ready, images imported
//   ...
//   await node.stop()                           // before cluster.stop()
//
// stop(), Ctrl-C, SIGTERM and process exit stop the kubelet, every container and containerd, and
// undo what the node did to the machine: mounts under its directory, the bridge (and with it the
// pods' veths and network namespaces), container cgroups, the kubelet's links in /var/log/containers,
// libcni's cache entries, the directories these create outside the node's directory whatever they
// are told (/var/lib/kubelet/device-plugins, /var/lib/cni, /run/containerd/s, /var/log/containers)
// when they did not exist before, and net.ipv4.ip_forward, which the bridge plugin turns on.
//
// Needs root (containerd and the kubelet do), and what scripts/install-node-tools.sh installs
// (make node-tools). The settings below are the ones this machine needs (../shared/design.md, "Real
// pods"): a cgroup v1 host, no swap accounting, and no CAP_SYS_RESOURCE, so containerd must not
// raise a container's oom_score_adj above its own.
import { execFile, execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { chown, mkdir, readFile, writeFile } from 'node:fs/promises'
import { isAbsolute, join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { parse } from 'yaml'
import { freePort, type Cluster } from '../cluster.js'
import { ROOT } from '../root.js'

import { ComponentError, run as runToEnd, Supervisor, tail, type Managed, type RunResult } from './processes.js'
import { startServiceNetwork, type ServiceNetwork } from './service-network.js'
import type { ClientTls } from './watch.js'

const run = promisify(execFile)

export interface NodeTools {
  kubelet: string
  /** Directory holding the CNI plugins (bridge, host-local, portmap, loopback). */
  cniBinDir: string
  containerd: string
  ctr: string
  /** The pod sandbox image, and every image to import with its docker-archive. */
  sandboxImage: string
  images: { ref: string; archive: string }[]
  /** Metacontroller's release image, built from its source (not imported by startRealNode). */
  metacontrollerImage: { ref: string; archive: string } | undefined
}

export interface RealNodeOptions {
  /** Node name (default real-node-<4 hex>). */
  name?: string
  /**
   * The kubelet's syncFrequency in seconds (default 10): how often it re-syncs each pod, which is
   * when a changed ConfigMap reaches the pod's volume (the ConfigMap itself is watched).
   */
  syncFrequencySeconds?: number
  /** Per-component start timeout (default 120 s). */
  startTimeoutMs?: number
  /**
   * Services and cluster DNS for the pods (lib/service-network.ts), for pods that talk to the API
   * server in-cluster or to Services by name: the API server's address and the admin's client
   * certificate (the cluster's `server` and `tls`). Off by default.
   */
  services?: { server: string; tls: ClientTls }
  /** Progress messages (default: to stderr, prefixed with "e2e node:"). */
  log?: (message: string) => void
}

export interface RealNode {
  name: string
  /** The pods' /24, on `bridge`. */
  podCidr: string
  bridge: string
  /** Services and DNS for the pods, with options.services. */
  services: ServiceNetwork | undefined
  /** <cluster dir>/node */
  dir: string
  tools: NodeTools
  /** containerd.log or kubelet.log in the cluster's directory. */
  logFile(component: 'containerd' | 'kubelet'): string
  /** The log files the runtime wrote for a pod's container (CRI format), newest last; [] once removed. */
  containerLogs(namespace: string, pod: string, container: string): string[]
  /** Runs ctr against this node's containerd (namespace k8s.io); returns stdout. */
  ctr(args: string[]): Promise<string>
  /** Stops the kubelet, every container and containerd, and undoes the node's changes. Idempotent. */
  stop(): Promise<void>
}

type ClusterLike = Pick<Cluster, 'dir' | 'kubeconfig' | 'kubectlPath'>

/**
 * Runs kubectl against the cluster with no stdin (so a quick exit never meets a write to its
 * stdin), killing it after timeoutMs (code 124). Never throws for a non-zero exit.
 */
export function kubectl(cluster: ClusterLike, args: string[], timeoutMs = 120_000): Promise<RunResult> {
  return runToEnd(cluster.kubectlPath, [`--kubeconfig=${cluster.kubeconfig}`, ...args], { timeoutMs })
}

export async function kubectlOk(cluster: ClusterLike, args: string[]): Promise<string> {
  const r = await kubectl(cluster, args)
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${String(r.code)}: ${r.stderr.trim()}`)
  return r.stdout
}

/** What scripts/install-node-tools.sh installed, or an error saying how to install what is missing. */
export function findNodeTools(env: NodeJS.ProcessEnv = process.env): NodeTools {
  const binDir = env.PCC_NODE_BIN_DIR || execFileSync(join(ROOT, 'scripts/install-node-tools.sh'), ['--print-bin-dir'], { encoding: 'utf8' }).trim()
  const onPath = (name: string): string | undefined =>
    (env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/sbin']).map((d) => join(d, name)).find((p) => existsSync(p))
  const missing: string[] = []
  const need = (what: string, path: string | undefined): string => {
    if (path === undefined || !existsSync(path)) missing.push(`${what}${path === undefined ? '' : ` (${path})`}`)
    return path ?? what
  }
  const kubelet = need('kubelet', env.KUBELET_BIN || join(binDir, 'kubelet'))
  need('CNI plugins', join(binDir, 'cni', 'bridge'))
  const containerd = need('containerd', onPath('containerd'))
  const ctr = need('ctr', onPath('ctr'))
  need('runc', onPath('runc'))
  const imagesFile = need('images (images.json)', join(binDir, 'images.json'))
  if (missing.length > 0) {
    throw new Error(`the real node's tools are missing: ${missing.join(', ')}.\nInstall them with scripts/install-node-tools.sh (make node-tools; it builds what is missing and installs Debian's containerd and runc).`)
  }
  const images = JSON.parse(readFileSync(imagesFile, 'utf8')) as { sandboxImage: string; images: { ref: string; archive: string }[]; metacontrollerImage?: { ref: string; archive: string } }
  const archive = (file: string): string => realpathSync(join(binDir, file))
  return {
    kubelet,
    cniBinDir: realpathSync(join(binDir, 'cni')),
    containerd,
    ctr,
    sandboxImage: images.sandboxImage,
    images: images.images.map((i) => ({ ref: i.ref, archive: archive(i.archive) })),
    metacontrollerImage: images.metacontrollerImage && { ref: images.metacontrollerImage.ref, archive: archive(images.metacontrollerImage.archive) }
  }
}

/** A /24 in 10.88.0.0/16 that no route of this machine covers yet. */
function freePodCidr(): string {
  const routes = execFileSync('ip', ['-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' })
  const used = new Set([...routes.matchAll(/\b10\.88\.(\d+)\.\d+/g)].map((m) => Number(m[1])))
  const free = Array.from({ length: 254 }, (_, i) => i + 1).filter((n) => !used.has(n))
  const pick = free[Math.floor(Math.random() * free.length)]
  if (pick === undefined) throw new Error('no free /24 in 10.88.0.0/16 for the real node\'s pods')
  return `10.88.${String(pick)}.0/24`
}

/**
 * Made by the kubelet, containerd and libcni wherever they are told to keep their files, and the
 * parent cgroup (named after containerd's namespace) of the containers in each hierarchy.
 */
function hostPaths(): string[] {
  const hierarchies = existsSync('/sys/fs/cgroup') ? readdirSync('/sys/fs/cgroup').map((c) => join('/sys/fs/cgroup', c, 'k8s.io')) : []
  return ['/var/lib/kubelet', '/var/lib/cni', '/run/containerd', '/var/log/containers', ...hierarchies]
}

function randomHex(n: number): string {
  return Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join('')
}

const pidsOf = (): number[] => readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number)
function readProc(pid: number, file: string): string {
  try {
    return readFileSync(`/proc/${String(pid)}/${file}`, 'utf8')
  } catch {
    return ''
  }
}

/** Mount points under dir, deepest (latest) first. */
function mountsUnder(dir: string): string[] {
  const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => unescape(line.split(' ')[4] ?? ''))
    .filter((p) => p.startsWith(`${dir}/`))
    .reverse()
}

/** Removes path and every directory under it, bottom-up, as long as they are empty. */
function removeEmptyDirs(path: string): void {
  try {
    for (const entry of readdirSync(path, { withFileTypes: true })) if (entry.isDirectory()) removeEmptyDirs(join(path, entry.name))
    rmdirSync(path)
  } catch {
    // not empty, or gone
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

interface NodeState {
  dir: string
  socket: string
  bridge: string
  podLogsDir: string
  runcRoot: string
  ipForwardBefore: string
  /** Paths outside dir that the kubelet, containerd or libcni create whatever they are told, and that did not exist before. */
  createdHostPaths: string[]
  /** One each, so stop() can end the kubelet, then the containers, then containerd. */
  supervisors: Supervisor[]
}

/**
 * Undoes everything the node did, without containerd's help (it may be gone): SIGKILLs the
 * kubelet, containerd, its shims and every process they started; unmounts what is mounted under
 * the node's directory (container root filesystems, /dev/shm of sandboxes, network namespaces, the
 * kubelet's tmpfs volumes); removes container cgroups, the bridge, the kubelet's links in
 * /var/log/containers; restores net.ipv4.ip_forward. Synchronous, for exit and signal handlers too.
 * Returns what it could not undo.
 */
function sweep(state: NodeState): string[] {
  const problems: string[] = []
  for (const supervisor of state.supervisors) supervisor.killAllNow()

  // containerd-shim-runc-v2 ... -address <our socket> ...: the shims and their descendants.
  const pids = pidsOf()
  const parent = new Map<number, number>()
  for (const pid of pids) {
    const stat = readProc(pid, 'stat')
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    if (Number.isInteger(ppid)) parent.set(pid, ppid)
  }
  const shimSockets: string[] = []
  const shims = pids.filter((pid) => {
    const argv = readProc(pid, 'cmdline').split('\0')
    const i = argv.indexOf('-address')
    if (i === -1 || argv[i + 1] !== state.socket) return false
    // A shim's socket, which a SIGKILLed shim leaves behind: containerd 1.6 names it
    // /run/containerd/s/<sha256 of <containerd socket>/<namespace>/<id>>.
    const ns = argv[argv.indexOf('-namespace') + 1] ?? ''
    const id = argv[argv.indexOf('-id') + 1] ?? ''
    shimSockets.push(join('/run/containerd/s', createHash('sha256').update(join(state.socket, ns, id)).digest('hex')))
    return true
  })
  const doomed = new Set(shims)
  for (let grew = true; grew; ) {
    grew = false
    for (const [pid, ppid] of parent) {
      if (doomed.has(ppid) && !doomed.has(pid)) {
        doomed.add(pid)
        grew = true
      }
    }
  }
  // Cgroups runc made, from its state files, before the processes that hold them go.
  const cgroups: string[] = []
  const runcNamespaces = existsSync(state.runcRoot) ? readdirSync(state.runcRoot) : []
  for (const ns of runcNamespaces) {
    for (const id of readdirSync(join(state.runcRoot, ns))) {
      try {
        const s = JSON.parse(readFileSync(join(state.runcRoot, ns, id, 'state.json'), 'utf8')) as { cgroup_paths?: Record<string, string> }
        cgroups.push(...Object.values(s.cgroup_paths ?? {}))
      } catch {
        // no state file: runc deleted the container (and its cgroups) already
      }
    }
  }
  for (const pid of doomed) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone already
    }
  }

  for (const mount of mountsUnder(state.dir)) {
    try {
      execFileSync('umount', ['-l', mount], { stdio: 'ignore' })
    } catch {
      problems.push(`umount -l ${mount} failed`)
    }
  }
  for (const cgroup of new Set(cgroups)) {
    for (let attempt = 0; existsSync(cgroup); attempt++) {
      try {
        rmdirSync(cgroup)
      } catch (error) {
        if (attempt >= 20) {
          problems.push(`rmdir ${cgroup}: ${(error as Error).message}`)
          break
        }
        sleepSync(50)
      }
    }
  }
  // libcni's cache (/var/lib/cni/results, not configurable through containerd 1.6) for this
  // node's network, and the loopback entries of the same sandboxes.
  const results = '/var/lib/cni/results'
  try {
    for (const entry of readdirSync(results)) {
      if (!entry.startsWith(`${state.bridge}-`)) continue
      const sandbox = entry.slice(state.bridge.length + 1).replace(/-eth0$/, '')
      rmSync(join(results, entry), { force: true })
      rmSync(join(results, `cni-loopback-${sandbox}-lo`), { force: true })
    }
  } catch {
    // no cache
  }
  // The device plugins' socket is always /var/lib/kubelet/device-plugins/kubelet.sock.
  if (state.createdHostPaths.includes('/var/lib/kubelet')) rmSync('/var/lib/kubelet/device-plugins/kubelet.sock', { force: true })
  for (const socket of shimSockets) rmSync(socket, { force: true })
  try {
    execFileSync('ip', ['link', 'delete', state.bridge], { stdio: 'ignore' })
  } catch {
    // never created (no pod ran), or gone
  }
  try {
    for (const entry of readdirSync('/var/log/containers')) {
      const link = join('/var/log/containers', entry)
      try {
        if (readlinkSync(link).startsWith(`${state.podLogsDir}/`)) unlinkSync(link)
      } catch {
        // not a link, or gone
      }
    }
  } catch {
    // no /var/log/containers
  }
  for (const path of state.createdHostPaths) removeEmptyDirs(path)
  try {
    if (readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim() !== state.ipForwardBefore) {
      writeFileSync('/proc/sys/net/ipv4/ip_forward', `${state.ipForwardBefore}\n`)
    }
  } catch (error) {
    problems.push(`restoring net.ipv4.ip_forward: ${(error as Error).message}`)
  }
  return problems
}

// Every node this process started, for the exit and signal handlers. They are prepended, so they
// run before the control plane's own (harness/cluster.ts), which remove the cluster's directory.
const live = new Set<NodeState>()
let handlersInstalled = false
function installHandlers(): void {
  if (handlersInstalled) return
  handlersInstalled = true
  process.prependListener('exit', () => {
    for (const state of live) sweep(state)
    live.clear()
  })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.prependListener(signal, () => {
      if (live.size > 0) process.stderr.write(`e2e node: ${signal}, stopping the real node\n`)
      for (const state of live) sweep(state)
      live.clear()
    })
  }
}

function containerdConfig(dir: string, socket: string, runcRoot: string, tools: NodeTools, cniConfDir: string): string {
  const q = (s: string): string => JSON.stringify(s)
  return `# containerd for the e2e suite's real node (harness/lib/real-node.ts); everything under ${dir}.
version = 2
root = ${q(join(dir, 'containerd', 'root'))}
state = ${q(join(dir, 'containerd', 'state'))}
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = ${q(socket)}

[ttrpc]
  address = ${q(`${socket}.ttrpc`)}

[debug]
  level = "info"

[plugins."io.containerd.internal.v1.opt"]
  path = ${q(join(dir, 'containerd', 'opt'))}

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${q(tools.sandboxImage)}
  # The sandbox lacks CAP_SYS_RESOURCE: without this, every pod sandbox fails with runc's
  # "can't get final child's PID from pipe: EOF".
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true
  max_container_log_line_size = 16384

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = ${q(runcRoot)}
        SystemdCgroup = false

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${q(tools.cniBinDir)}
    conf_dir = ${q(cniConfDir)}
    max_conf_num = 1
`
}

// The network is named after the bridge: libcni's cache entries are <network>-<sandbox>-eth0.
function cniConfig(bridge: string, podCidr: string, ipamDir: string): object {
  return {
    cniVersion: '1.0.0',
    name: bridge,
    plugins: [
      {
        type: 'bridge',
        bridge,
        isGateway: true,
        // No NAT, no iptables: pods talk to this machine and to each other over the bridge.
        ipMasq: false,
        hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: podCidr }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: ipamDir }
      },
      { type: 'portmap', capabilities: { portMappings: true } }
    ]
  }
}

function kubeletConfig(o: { port: number; healthzPort: number; socket: string; podLogsDir: string; volumePluginDir: string; syncFrequencySeconds: number; caFile: string; clusterDns: string | undefined }): object {
  return {
    // Pods resolve <service>.<namespace>.svc.cluster.local through lib/service-network.ts's DNS.
    ...(o.clusterDns === undefined ? {} : { clusterDNS: [o.clusterDns], clusterDomain: 'cluster.local' }),
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: '127.0.0.1',
    port: o.port,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: o.healthzPort,
    authentication: { anonymous: { enabled: false }, webhook: { enabled: false }, x509: { clientCAFile: o.caFile } },
    authorization: { mode: 'AlwaysAllow' },
    containerRuntimeEndpoint: `unix://${o.socket}`,
    imageServiceEndpoint: `unix://${o.socket}`,
    podLogsDir: o.podLogsDir,
    volumePluginDir: o.volumePluginDir,
    // This machine: cgroup v1 (hybrid), cgroupfs, no systemd, swap not accounted.
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    cgroupsPerQOS: false,
    enforceNodeAllocatable: [],
    failSwapOn: false,
    // A changed ConfigMap reaches a pod's volume on the pod's next sync.
    syncFrequency: `${String(o.syncFrequencySeconds)}s`,
    configMapAndSecretChangeDetectionStrategy: 'Watch',
    // The images were imported, not pulled: never garbage-collect them, never evict for disk.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'nodefs.inodesFree': '1%', 'imagefs.available': '1%', 'imagefs.inodesFree': '1%' },
    serializeImagePulls: false,
    maxPods: 50,
    shutdownGracePeriod: '0s',
    kubeAPIQPS: 50,
    kubeAPIBurst: 100
  }
}

export async function startRealNode(cluster: ClusterLike, options: RealNodeOptions = {}): Promise<RealNode> {
  const log = options.log ?? ((m: string) => process.stderr.write(`e2e node: ${m}\n`))
  const timeout = options.startTimeoutMs ?? 120_000
  if (process.getuid?.() !== 0) throw new Error('the real node needs root (containerd and the kubelet mount, and make network namespaces and cgroups)')
  const tools = findNodeTools()
  const started = Date.now()
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)}s`

  const name = options.name ?? `real-node-${randomHex(4)}`
  const dir = join(cluster.dir, 'node')
  const socket = join(dir, 'containerd.sock')
  const runcRoot = join(dir, 'runc')
  const cniConfDir = join(dir, 'cni', 'net.d')
  const podLogsDir = join(dir, 'pod-logs')
  const bridge = `pcc${randomHex(8)}`
  const podCidr = freePodCidr()
  await Promise.all([cniConfDir, join(dir, 'cni', 'ipam'), podLogsDir, join(dir, 'kubelet'), runcRoot].map((d) => mkdir(d, { recursive: true })))

  const runtime = new Supervisor(cluster.dir)
  const kubeletSupervisor = new Supervisor(cluster.dir)
  const ipForwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()
  const createdHostPaths = hostPaths().filter((p) => !existsSync(p))
  const state: NodeState = { dir, socket, bridge, podLogsDir, runcRoot, ipForwardBefore, createdHostPaths, supervisors: [kubeletSupervisor, runtime] }
  live.add(state)
  installHandlers()

  const ctr = async (args: string[]): Promise<string> => {
    try {
      return (await run(tools.ctr, ['--address', socket, '--namespace', 'k8s.io', ...args], { maxBuffer: 16 * 1024 * 1024 })).stdout
    } catch (error) {
      const e = error as Error & { stderr?: string }
      throw new Error(`ctr ${args.join(' ')}: ${e.stderr?.trim() || e.message}`, { cause: error })
    }
  }

  let services: ServiceNetwork | undefined
  let stopped: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await services?.stop()
      // The kubelet first, so it restarts nothing; then every container through containerd, so
      // runc removes their cgroups and containerd unmounts their root filesystems; then the sweep
      // for whatever is left (network namespaces, sandboxes' /dev/shm, the bridge).
      await kubeletSupervisor.stopAll([], 5000)
      if (runtime.processes.some((m) => m.exit === undefined)) {
        const tasks = (await ctr(['tasks', 'ls', '-q']).catch(() => '')).split('\n').filter((l) => l !== '')
        await Promise.all(tasks.map(async (id) => {
          await ctr(['tasks', 'kill', '--all', '--signal', 'SIGKILL', id]).catch(() => '')
          await ctr(['tasks', 'delete', '--force', id]).catch(() => '')
        }))
      }
      await runtime.stopAll([], 5000)
      const problems = sweep(state)
      live.delete(state)
      if (problems.length > 0) log(`stopped, but could not undo: ${problems.join('; ')}`)
    })()
    return stopped
  }

  try {
    await writeFile(join(dir, 'containerd.toml'), containerdConfig(dir, socket, runcRoot, tools, cniConfDir))
    await writeFile(join(cniConfDir, '10-pcc-e2e.conflist'), JSON.stringify(cniConfig(bridge, podCidr, join(dir, 'cni', 'ipam')), null, 2))
    const containerd = runtime.start('containerd', tools.containerd, ['--config', join(dir, 'containerd.toml')])
    await runtime.waitReady(containerd, 'serving (ctr version)', async () => (await ctr(['version'])) !== '', timeout)
    for (const image of tools.images) {
      await ctr(['images', 'import', image.archive]).catch((error: unknown) => {
        throw new ComponentError('containerd', `importing ${image.ref} from ${image.archive}: ${(error as Error).message}`, containerd.logFile)
      })
    }
    const imported = await ctr(['images', 'ls', '-q'])
    for (const image of tools.images) {
      if (!imported.split('\n').some((ref) => ref === image.ref || ref === `docker.io/${image.ref}`)) {
        throw new ComponentError('containerd', `${image.ref} is not among the imported images:\n${imported}`, containerd.logFile)
      }
    }
    log(`containerd ready, ${String(tools.images.length)} images imported (${elapsed()})`)

    if (options.services !== undefined) {
      // The bridge, made now with its gateway address (the CNI bridge plugin finds and keeps both),
      // so that DNS and the ClusterIPs have an address to listen on before the first pod.
      const gateway = podCidr.replace(/\.0\/24$/, '.1')
      await run('ip', ['link', 'add', 'name', bridge, 'type', 'bridge'])
      await run('ip', ['addr', 'add', `${gateway}/24`, 'dev', bridge])
      await run('ip', ['link', 'set', bridge, 'up'])
      services = await startServiceNetwork({ api: options.services, bridge, gateway, log: (m) => log(`services: ${m}`) })
      log(`services: ClusterIPs on ${bridge}, DNS on ${gateway}:53 (${elapsed()})`)
    }

    const [port, healthzPort] = await Promise.all([freePort(), freePort()])
    const caFile = join(dir, 'ca.crt')
    await writeFile(caFile, await clusterCa(cluster.kubeconfig))
    await writeFile(
      join(dir, 'kubelet.yaml'),
      JSON.stringify(kubeletConfig({ port, healthzPort, socket, podLogsDir, volumePluginDir: join(dir, 'kubelet-plugins'), syncFrequencySeconds: options.syncFrequencySeconds ?? 10, caFile, clusterDns: services?.dns }), null, 2)
    )
    const kubelet: Managed = kubeletSupervisor.start('kubelet', tools.kubelet, [
      `--config=${join(dir, 'kubelet.yaml')}`,
      `--kubeconfig=${cluster.kubeconfig}`,
      `--root-dir=${join(dir, 'kubelet')}`,
      `--cert-dir=${join(dir, 'kubelet', 'pki')}`,
      `--hostname-override=${name}`,
      '--node-labels=e2e.relaxdiego.com/node=real',
      '--v=2'
    ])
    await kubeletSupervisor.waitReady(kubelet, 'healthy (/healthz)', async () => {
      const res = await fetch(`http://127.0.0.1:${String(healthzPort)}/healthz`, { signal: AbortSignal.timeout(2000) })
      return res.ok
    }, timeout)
    await kubeletSupervisor.waitReady(kubelet, `registering node ${name} as Ready`, async () => {
      const r = await kubectl(cluster, ['get', 'node', name, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])
      return r.code === 0 && r.stdout.trim() === 'True'
    }, timeout)
    log(`kubelet ready: node ${name}, pods on ${bridge} ${podCidr} (${elapsed()})`)
  } catch (error) {
    await stop()
    throw error
  }

  return {
    name,
    podCidr,
    bridge,
    services,
    dir,
    tools,
    logFile: (component) => runtime.logFile(component),
    containerLogs: (namespace, pod, container) => {
      if (!existsSync(podLogsDir)) return []
      return readdirSync(podLogsDir)
        .filter((d) => d.startsWith(`${namespace}_${pod}_`))
        .flatMap((d) => {
          const containerDir = join(podLogsDir, d, container)
          return existsSync(containerDir) ? readdirSync(containerDir).sort((a, b) => parseInt(a) - parseInt(b)).map((f) => join(containerDir, f)) : []
        })
    },
    ctr,
    stop
  }
}

/**
 * The cluster's CA from its kubeconfig (inline or a file): the kubelet accepts client certificates
 * it signed, and nothing else (no anonymous requests).
 */
async function clusterCa(kubeconfig: string): Promise<string> {
  const config = parse(await readFile(kubeconfig, 'utf8')) as { clusters?: { cluster?: Record<string, string | undefined> }[] }
  const cluster = config.clusters?.[0]?.cluster ?? {}
  const data = cluster['certificate-authority-data']
  if (data !== undefined) return Buffer.from(data, 'base64').toString('utf8')
  const file = cluster['certificate-authority']
  if (file !== undefined) return readFile(isAbsolute(file) ? file : resolve(kubeconfig, '..', file), 'utf8')
  throw new Error(`${kubeconfig} names no certificate authority for the kubelet to trust`)
}

/**
 * Gives the directories of the cluster's hostPath PersistentVolumes to uid:gid. A hostPath volume
 * gets no fsGroup, so a pod that runs as a non-root user (Prometheus: 65534) cannot write to one
 * that root owns.
 */
export async function chownHostPathVolumes(cluster: ClusterLike, uid: number, gid: number): Promise<number> {
  const pvs = JSON.parse(await kubectlOk(cluster, ['get', 'pv', '-o', 'json'])) as { items: { spec?: { hostPath?: { path?: string } } }[] }
  const paths = pvs.items.flatMap((pv) => (pv.spec?.hostPath?.path !== undefined ? [pv.spec.hostPath.path] : []))
  await Promise.all(paths.map((p) => chown(p, uid, gid)))
  return paths.length
}

/** The end of the kubelet's or containerd's log, for assertion messages. */
export function nodeLogTail(node: RealNode, component: 'containerd' | 'kubelet', lines = 30): string {
  return tail(node.logFile(component), lines)
}
