// Installs this checkout's controller into a local cluster: the generated CRD, hook servers started
// from src/ on loopback, and the CompositeController from metacontroller/ pointed at them.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parse } from 'yaml'
import { ROOT } from '../helpers/env.js'
import { startHookProcess, type HookProcess } from '../helpers/hook-process.js'
import { freePort, type Cluster } from './cluster.js'

export { freePort }

/** A hook process on `port` (a restarted hook keeps the address Metacontroller calls). */
export async function startHook(port: number, env: Record<string, string> = {}): Promise<HookProcess> {
  // LOG_LEVEL info at least: the "listening" line is how the helper learns the server is up.
  const hook = startHookProcess({ PORT: String(port), LOG_LEVEL: 'info', ...env })
  await hook.listening
  return hook
}

/** Applies the CRD and the CompositeController whose hooks call `hookUrl` (resync every `resyncSeconds`). */
export async function installController(cluster: Cluster, hookUrl: string, resyncSeconds = 5): Promise<void> {
  await cluster.kubectlOk(['apply', '-f', join(ROOT, 'metacontroller', 'crd.yaml')])
  await cluster.kubectlOk(['wait', '--for=condition=Established', 'crd/prometheusclusters.relaxdiego.com', '--timeout=60s'])
  const controller = parse(await readFile(join(ROOT, 'metacontroller', 'composite-controller.yaml'), 'utf8')) as {
    spec: { hooks: Record<string, { webhook: { url: string } }>; resyncPeriodSeconds: number }
  }
  for (const [name, hook] of Object.entries(controller.spec.hooks)) hook.webhook.url = `${hookUrl}/${name}`
  controller.spec.resyncPeriodSeconds = resyncSeconds
  await cluster.apply([controller])
}
