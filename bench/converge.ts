// npm run bench:e2e: applies 100 PrometheusClusters at once to a local control plane with
// Metacontroller and one hook process, and prints the seconds until every StatefulSet exists and
// every status says Ready, the hook's RSS, and the helm processes it started. Not a test.
import { startCluster } from '../test/e2e/cluster.js'
import { freePort, installController, startHook } from '../test/e2e/controller.js'

const COUNT = Number(process.env.BENCH_CLUSTERS ?? 100)
const cluster = await startCluster({ metacontroller: 'required', persistentVolumes: COUNT + 10 })
const hook = await startHook(await freePort())
try {
  const url = await hook.listening
  await installController(cluster, url, 60)
  await cluster.kubectlOk(['create', 'namespace', 'bench'])
  const resources = Array.from({ length: COUNT }, (_, i) => ({
    apiVersion: 'relaxdiego.com/v1alpha1',
    kind: 'PrometheusCluster',
    metadata: { name: `c-${String(i).padStart(3, '0')}`, namespace: 'bench' },
    spec: {}
  }))
  const started = performance.now()
  await cluster.apply(resources)
  let allSts: number | undefined
  let allReady: number | undefined
  while (allReady === undefined) {
    const seconds = (performance.now() - started) / 1000
    if (seconds > 600) throw new Error('not converged after 600 s')
    if (allSts === undefined) {
      const sts = JSON.parse(await cluster.kubectlOk(['get', 'statefulsets', '-n', 'bench', '-o', 'json'])) as { items: unknown[] }
      if (sts.items.length >= COUNT) allSts = seconds
    }
    const proms = JSON.parse(await cluster.kubectlOk(['get', 'prometheusclusters', '-n', 'bench', '-o', 'json'])) as { items: { status?: { conditions?: { type: string; status: string }[] } }[] }
    const ready = proms.items.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length
    if (ready >= COUNT) allReady = seconds
    else await new Promise((r) => setTimeout(r, 250))
  }
  const metrics = await (await fetch(`${url}/metrics`)).text()
  const metric = (re: RegExp) => Number(re.exec(metrics)?.[1])
  console.log(`${COUNT} PrometheusClusters applied at once`)
  console.log(`every StatefulSet exists after ${allSts?.toFixed(1) ?? '?'} s`)
  console.log(`every status Ready after ${allReady.toFixed(1)} s  (target < 30 s)`)
  console.log(`hook RSS ${(metric(/^pcc_process_resident_memory_bytes (\S+)$/m) / 1024 / 1024).toFixed(1)} MiB; helm processes started ${metric(/^pcc_subprocesses_started_total\{tool="helm"\} (\S+)$/m)}; promtool ${metric(/^pcc_subprocesses_started_total\{tool="promtool"\} (\S+)$/m)}`)
} finally {
  await hook.stop()
  await cluster.stop()
}
