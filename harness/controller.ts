// Installs this checkout's controller into a local cluster as the install manifests do: the
// generated CRD, the mutual-TLS Secrets (certificates from scripts/make-certs.sh, the server's also
// naming 127.0.0.1), hook servers started from src/ on loopback with those certificates, and the
// CompositeController from metacontroller/ with only its hook URLs pointed at them.
import { execFile } from 'node:child_process'
import { rmSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import { startHookProcess, type HookProcess } from './hook-process.js'
import { ROOT } from './root.js'
import { freePort, type Cluster } from './cluster.js'

export { freePort }

const NAMESPACE = 'prometheus-cluster-controller'

export interface HookCertificates {
  dir: string
  /** The hook's TLS settings (TLS_CERT_FILE, TLS_KEY_FILE, TLS_CLIENT_CA_FILE). */
  env: Record<string, string>
  remove(): Promise<void>
}

/** A CA, the hook's serving certificate (also for IP 127.0.0.1) and Metacontroller's client certificate. */
export async function hookCertificates(): Promise<HookCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'pcc-e2e-certs-'))
  await new Promise<void>((resolve, reject) => {
    execFile(join(ROOT, 'scripts', 'make-certs.sh'), [dir], { env: { ...process.env, EXTRA_SANS: 'IP:127.0.0.1', NAMESPACE, SERVICE: NAMESPACE } }, (error, _stdout, stderr) =>
      error ? reject(new Error(`scripts/make-certs.sh failed: ${stderr}`)) : resolve()
    )
  })
  // Also when the process ends without calling remove() (a signal handler's process.exit, a crash).
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
  return {
    dir,
    env: { TLS_CERT_FILE: join(dir, 'server.crt'), TLS_KEY_FILE: join(dir, 'server.key'), TLS_CLIENT_CA_FILE: join(dir, 'ca.crt') },
    remove: () => rm(dir, { recursive: true, force: true })
  }
}

export interface Hook extends HookProcess {
  /** https://127.0.0.1:<port>: the hooks, mutual TLS. */
  url: string
  /** http://127.0.0.1:<ops port>: /healthz, /readyz, /metrics. */
  opsUrl: string
}

/** A hook process on `port` and `opsPort` (a restarted hook keeps the addresses Metacontroller and scrapers call). */
export async function startHook(certificates: HookCertificates, port: number, opsPort: number, env: Record<string, string> = {}, entry: 'src' | 'dist' = 'src'): Promise<Hook> {
  // LOG_LEVEL info at least: the "listening" line is how the helper learns the server is up.
  const hook = startHookProcess({ ...certificates.env, PORT: String(port), OPS_PORT: String(opsPort), LOG_LEVEL: 'info', ...env }, entry)
  // A test file whose set-up throws exits without its teardown: the hook must not outlive it.
  const kill = () => hook.child.kill('SIGKILL')
  process.once('exit', kill)
  void hook.exited.then(() => process.off('exit', kill))
  await hook.listening
  return Object.assign(hook, { url: `https://127.0.0.1:${String(port)}`, opsUrl: `http://127.0.0.1:${String(opsPort)}` })
}

/**
 * Applies the CRD, the TLS Secrets and the CompositeController whose hooks call `hookBase`
 * (https://host:port; resync every `resyncSeconds`).
 */
export async function installController(cluster: Cluster, certificates: HookCertificates, hookBase: string, resyncSeconds = 5): Promise<void> {
  await cluster.kubectlOk(['apply', '-f', join(ROOT, 'metacontroller', 'crd', 'crd.yaml')])
  await cluster.kubectlOk(['wait', '--for=condition=Established', 'crd/prometheusclusters.relaxdiego.com', '--timeout=60s'])
  await cluster.apply(await readFile(join(ROOT, 'metacontroller', 'namespace', 'namespace.yaml'), 'utf8'))
  const file = (name: string) => join(certificates.dir, name)
  const secret = (name: string, files: Record<string, string>) =>
    cluster.kubectlOk(['create', 'secret', 'generic', name, '-n', NAMESPACE, '--type=kubernetes.io/tls', ...Object.entries(files).map(([k, f]) => `--from-file=${k}=${file(f)}`)])
  // The names and keys the CompositeController's caBundle and clientTLS refer to (metacontroller/controller/kustomization.yaml).
  await secret('prometheus-cluster-controller-tls', { 'ca.crt': 'ca.crt', 'tls.crt': 'server.crt', 'tls.key': 'server.key' })
  await secret('prometheus-cluster-controller-client', { 'tls.crt': 'client.crt', 'tls.key': 'client.key' })
  const controller = parse(await readFile(join(ROOT, 'metacontroller', 'controller', 'composite-controller.yaml'), 'utf8')) as {
    spec: { hooks: Record<string, { webhook: { url: string } }>; resyncPeriodSeconds: number }
  }
  for (const [name, hook] of Object.entries(controller.spec.hooks)) hook.webhook.url = `${hookBase}/${name}`
  controller.spec.resyncPeriodSeconds = resyncSeconds
  await cluster.apply([controller])
}

/**
 * What most e2e files start with, once the cluster runs: certificates, one hook process over mutual
 * TLS on free ports, and the controller installed for it. What stops each goes onto `closers`, in
 * the order started, also when a later step fails.
 */
export async function startController(cluster: Cluster, closers: (() => Promise<void>)[]): Promise<Hook> {
  const certificates = await hookCertificates()
  closers.push(() => certificates.remove())
  const hook = await startHook(certificates, await freePort(), await freePort())
  closers.push(() => hook.stop(2000))
  await installController(cluster, certificates, hook.url)
  return hook
}
