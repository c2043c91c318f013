// The real prometheus-operator, run out of cluster beside a harness control plane: its CRDs
// (monitoring.coreos.com, as its release ships them) and its operator command, watching only the
// namespaces given, with the cluster's admin kubeconfig. The cluster supervises the process:
// stop() here, cluster.stop(), a signal or the test process's exit ends it.
//
//   const operator = await startPrometheusOperator(cluster, { namespaces: ['team-a'] })
//   ...
//   await operator.stop()                       // or leave it to cluster.stop()
//
// Binaries: scripts/install-e2e-tools.sh prometheus-operator (see findPrometheusOperator).
import { execFile } from 'node:child_process'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { freePort, type Cluster, type SupervisedProcess } from './cluster.js'
import { findPrometheusOperator } from './lib/binaries.js'

export interface PrometheusOperatorOptions {
  /** The namespaces it watches and writes to (--namespaces); at least one. */
  namespaces: string[]
  /** More arguments (each a whole `--flag=value`). */
  args?: string[]
}

export interface PrometheusOperator extends SupervisedProcess {
  /** What `prometheus-operator --version` prints first, e.g. "prometheus-operator, version 0.91.0 (...)". */
  version: string
  /** Its log file in the cluster's directory. */
  logFile: string
  /** http://127.0.0.1:<port>/metrics */
  metricsUrl: string
  /** The CRDs it was given, by name (prometheuses.monitoring.coreos.com, ...). */
  crds: string[]
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 10_000 }, (error, stdout, stderr) => (error ? reject(new Error(`${command} ${args.join(' ')}: ${stderr || error.message}`)) : resolve(stdout + stderr)))
  })
}

/** Installs prometheus-operator's CRDs and starts it; resolves once its web server answers /healthz. */
export async function startPrometheusOperator(cluster: Cluster, options: PrometheusOperatorOptions): Promise<PrometheusOperator> {
  if (options.namespaces.length === 0) throw new Error('startPrometheusOperator: give it at least one namespace')
  const binaries = findPrometheusOperator()
  const version = (await run(binaries.operator, ['--version'])).split('\n')[0] ?? ''

  // Server-side: the larger CRDs exceed the 256 KiB annotation client-side apply would write.
  const files = (await readdir(binaries.crds)).filter((f) => f.endsWith('.yaml')).sort()
  await cluster.kubectlOk(['apply', '--server-side', '--field-manager=e2e-prometheus-operator', ...files.flatMap((f) => ['-f', join(binaries.crds, f)])])
  const crds = files.map((f) => f.replace(/^monitoring\.coreos\.com_(.*)\.yaml$/, '$1.monitoring.coreos.com'))
  await cluster.kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', ...crds.map((c) => `crd/${c}`)])

  const port = await freePort()
  const supervised = await cluster.startProcess(
    'prometheus-operator',
    binaries.operator,
    [
      `--namespaces=${options.namespaces.join(',')}`,
      `--web.listen-address=127.0.0.1:${String(port)}`,
      '--log-level=info',
      ...(options.args ?? [])
    ],
    {
      ready: {
        what: 'serving /healthz',
        check: async () => {
          const res = await fetch(`http://127.0.0.1:${String(port)}/healthz`, { signal: AbortSignal.timeout(2000) })
          await res.arrayBuffer()
          return res.ok
        }
      }
    }
  )
  return { ...supervised, version, logFile: supervised.managed.logFile, metricsUrl: `http://127.0.0.1:${String(port)}/metrics`, crds }
}
