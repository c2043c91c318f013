// make demo: a local control plane (kube-apiserver, controller-manager, scheduler, kwok, and the real
// Metacontroller v4.17.2 with the flags of deploy/metacontroller/args.yaml) with this checkout's hook
// installed and examples/simple.yaml applied. Runs until interrupted,
// then removes everything it started.
import { join } from 'node:path'
import { startCluster } from '../harness/cluster.js'
import { ROOT } from '../harness/root.js'
import { freePort, hookCertificates, installController, startHook } from '../harness/controller.js'

const cluster = await startCluster({ metacontroller: 'required' })
const certificates = await hookCertificates()
const hook = await startHook(certificates, await freePort(), await freePort(), { LOG_LEVEL: 'info' })
hook.child.stdout?.pipe(process.stdout)
// On Ctrl-C the harness's own handlers stop the cluster and remove its directory; the hook is ours.
const state = { interrupted: false }
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    state.interrupted = true
    void hook.stop().then(() => certificates.remove())
  })
}
const stop = async (code: number) => {
  await hook.stop()
  await certificates.remove()
  await cluster.stop()
  process.exit(code)
}
try {
  await installController(cluster, certificates, hook.url)
  await cluster.kubectlOk(['create', 'namespace', 'example'])
  await cluster.kubectlOk(['apply', '-n', 'example', '-f', join(ROOT, 'examples', 'simple.yaml')])
  await cluster.kubectlOk(['wait', '-n', 'example', '--for=condition=Ready', 'prometheuscluster/simple-prometheus-instance', '--timeout=120s'])
  console.log(`\n${await cluster.kubectlOk(['get', 'promcluster', '-n', 'example'])}`)
  console.log(
    [
      `Metacontroller ${cluster.binaries.metacontroller} runs with ${cluster.metacontrollerArgs.join(' ')}`,
      `(its log: ${cluster.logFile('metacontroller')})`,
      '',
      'The cluster is yours until Ctrl-C. In another shell:',
      `  export KUBECONFIG=${cluster.kubeconfig}`,
      `  export PATH=${join(cluster.kubectlPath, '..')}:$PATH`,
      '  kubectl get promcluster,statefulsets,pods,pvc -n example',
      '  kubectl scale prometheuscluster/simple-prometheus-instance --replicas=3 -n example',
      '(pods run on a kwok fake node: they become Ready but run no Prometheus)'
    ].join('\n')
  )
} catch (error) {
  // Interrupted while setting up: the kubectl that failed was interrupted too, and the harness is
  // already stopping the cluster.
  if (!state.interrupted) {
    console.error(error instanceof Error ? error.message : String(error))
    await stop(1)
  }
}
