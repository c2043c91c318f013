// Where the control plane's binaries are: scripts/install-e2e-tools.sh builds them into a per-user
// cache and prints its bin dir; an environment variable per binary overrides it.
import { execFileSync } from 'node:child_process'
import { accessSync, constants, existsSync, realpathSync } from 'node:fs'
import { dirname, join } from 'node:path'

import { ROOT } from '../root.js'

export interface Binaries {
  etcd: string
  kubeApiserver: string
  kubeControllerManager: string
  kubeScheduler: string
  kubectl: string
  kwok: string
  /** kwok's Stage objects (node and pod lifecycles), written next to the kwok binary by the install script. */
  kwokStages: string
  metacontroller: string
  /**
   * Metacontroller's release manifests (its manifests/production: CRDs, RBAC, StatefulSet), copied
   * beside the binary by the install script from the tree it was built from.
   */
  metacontrollerManifests: string
}

const overrides = {
  etcd: 'ETCD_BIN',
  kubeApiserver: 'KUBE_APISERVER_BIN',
  kubeControllerManager: 'KUBE_CONTROLLER_MANAGER_BIN',
  kubeScheduler: 'KUBE_SCHEDULER_BIN',
  kubectl: 'KUBECTL_BIN',
  kwok: 'KWOK_BIN',
  metacontroller: 'METACONTROLLER_BIN'
} as const

const fileNames: Record<keyof typeof overrides, string> = {
  etcd: 'etcd',
  kubeApiserver: 'kube-apiserver',
  kubeControllerManager: 'kube-controller-manager',
  kubeScheduler: 'kube-scheduler',
  kubectl: 'kubectl',
  kwok: 'kwok',
  metacontroller: 'metacontroller'
}

let cachedBinDir: string | undefined
/** The install script's bin dir (`--print-bin-dir` needs no Go and builds nothing). */
export function e2eBinDir(): string {
  cachedBinDir ??= execFileSync(join(ROOT, 'scripts/install-e2e-tools.sh'), ['--print-bin-dir'], { encoding: 'utf8' }).trim()
  return cachedBinDir
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** Resolves every binary, failing with one message that lists all the missing ones. */
export function findBinaries(env: NodeJS.ProcessEnv = process.env): Binaries {
  const missing: string[] = []
  const found = {} as Record<keyof typeof overrides, string>
  for (const key of Object.keys(overrides) as (keyof typeof overrides)[]) {
    const fromEnv = env[overrides[key]]
    const path = fromEnv !== undefined && fromEnv !== '' ? fromEnv : join(e2eBinDir(), fileNames[key])
    if (!isExecutable(path)) missing.push(`${fileNames[key]} (${path}${fromEnv ? `, from ${overrides[key]}` : ''})`)
    found[key] = path
  }
  if (missing.length > 0) {
    throw new Error(
      `the e2e control plane's binaries are missing: ${missing.join(', ')}.\n` +
        `Build them with make e2e-tools (scripts/install-e2e-tools.sh; the first run takes about 10 minutes), ` +
        `or point the environment variables ${Object.values(overrides).join(', ')} at them.`
    )
  }

  const kwokStages = env.KWOK_STAGES || join(dirname(realpathSync(found.kwok)), 'stages.yaml')
  if (!existsSync(kwokStages)) {
    throw new Error(`kwok's stages are missing at ${kwokStages}: rerun scripts/install-e2e-tools.sh kwok, or set KWOK_STAGES to a file of kwok Stage objects`)
  }

  const metacontrollerManifests = env.METACONTROLLER_MANIFESTS || join(dirname(realpathSync(found.metacontroller)), 'manifests', 'production')
  if (!existsSync(join(metacontrollerManifests, 'metacontroller-crds-v1.yaml'))) {
    throw new Error(
      `Metacontroller's release manifests are missing at ${metacontrollerManifests} (no metacontroller-crds-v1.yaml): ` +
        'rerun scripts/install-e2e-tools.sh metacontroller, or set METACONTROLLER_MANIFESTS to the manifests/production folder of the tree METACONTROLLER_BIN was built from'
    )
  }

  return { ...found, kwokStages, metacontrollerManifests }
}

export interface PrometheusOperatorBinaries {
  /** The operator command (prometheus-operator's cmd/operator). */
  operator: string
  /** Its CRDs (monitoring.coreos.com_*.yaml, the module's example/prometheus-operator-crd), copied beside it by the install script. */
  crds: string
}

/**
 * prometheus-operator, which only the scenario that runs it beside this controller needs (so
 * findBinaries does not ask for it): scripts/install-e2e-tools.sh prometheus-operator builds it;
 * PROMETHEUS_OPERATOR_BIN and PROMETHEUS_OPERATOR_CRDS override.
 */
export function findPrometheusOperator(env: NodeJS.ProcessEnv = process.env): PrometheusOperatorBinaries {
  const fromEnv = env.PROMETHEUS_OPERATOR_BIN
  const operator = fromEnv !== undefined && fromEnv !== '' ? fromEnv : join(e2eBinDir(), 'prometheus-operator')
  if (!isExecutable(operator)) {
    throw new Error(
      `prometheus-operator is missing (${operator}${fromEnv ? ', from PROMETHEUS_OPERATOR_BIN' : ''}).\n` +
        'Build it with scripts/install-e2e-tools.sh prometheus-operator (make e2e-tools; about 4 minutes the first time), or point PROMETHEUS_OPERATOR_BIN at it.'
    )
  }
  const crds = env.PROMETHEUS_OPERATOR_CRDS || join(dirname(realpathSync(operator)), 'crds')
  if (!existsSync(join(crds, 'monitoring.coreos.com_prometheuses.yaml'))) {
    throw new Error(
      `prometheus-operator's CRDs are missing at ${crds} (no monitoring.coreos.com_prometheuses.yaml): ` +
        'rerun scripts/install-e2e-tools.sh prometheus-operator, or set PROMETHEUS_OPERATOR_CRDS to the example/prometheus-operator-crd folder of the release PROMETHEUS_OPERATOR_BIN was built from'
    )
  }
  return { operator, crds }
}
