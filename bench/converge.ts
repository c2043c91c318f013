// npm run bench:e2e: creates BENCH_CLUSTERS PrometheusClusters (default 100) at once on a local
// control plane with the real Metacontroller and one hook process, and prints:
// - the seconds until every StatefulSet exists and every status says Ready (from watches, so exact);
// - the hook's RSS sampled every 250 ms, and its peak as the kernel counts it (VmHWM);
// - where the time goes: CPU seconds of every process, the hook's request-duration sums,
//   Metacontroller's own metrics (hook calls, API requests, work queue) and the API server's;
// - then, unless BENCH_RESYNC=0, one full resync of the unchanged clusters (Metacontroller resyncs
//   every parent each resyncPeriodSeconds, BENCH_RESYNC_SECONDS, default 60): wall time, helm
//   processes started, hook and Metacontroller work; with BENCH_ETAG=compare, a second resync
//   after enabling webhook.etag in the CompositeController.
// Not a test: numbers to read, with the machine's load beside them.
//
//   BENCH_CLUSTERS=1000 BENCH_METACONTROLLER=defaults npm run bench:e2e
//
// BENCH_METACONTROLLER: recommended (deploy/metacontroller/args.yaml, default) or defaults (the
// release's args: QPS 5, burst 10, 5 workers). BENCH_ETAG: off (default), on, compare.
// BENCH_CREATE: api (default) POSTs the clusters to the API server from this process, 32 at a time,
// so they all exist within a few seconds, as if applied from a user's machine; kubectl runs five
// `kubectl apply` of 200 each, whose CPU shares the control plane's cores and stretches the
// creation over 9-19 s. The load generator's own CPU is printed with the results.
// BENCH_PROFILE=DIR: CPU profiles of kube-apiserver, kube-controller-manager, kube-scheduler and
// Metacontroller over the convergence (BENCH_PROFILE_SECONDS, default 60, from the apply), written
// to DIR/<component>.pprof for `go tool pprof -top`.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import { join } from 'node:path'
import { loadavg } from 'node:os'
import { Pool } from 'undici'
import { startCluster, type Cluster } from '../harness/cluster.js'
import { freePort, hookCertificates, installController, startHook } from '../harness/controller.js'
import type { MetacontrollerFlags } from '../harness/lib/metacontroller.js'
import { watch, type WatchedObject } from '../harness/lib/watch.js'

const COUNT = Number(process.env.BENCH_CLUSTERS ?? 100)
const flagsEnv = process.env.BENCH_METACONTROLLER ?? 'recommended'
const RESYNC = process.env.BENCH_RESYNC !== '0'
const RESYNC_SECONDS = Number(process.env.BENCH_RESYNC_SECONDS ?? 60)
const ETAG = process.env.BENCH_ETAG ?? 'off'
const TIMEOUT_S = Number(process.env.BENCH_TIMEOUT_SECONDS ?? 1800)
const CREATE = process.env.BENCH_CREATE ?? 'api'
const PROFILE_DIR = process.env.BENCH_PROFILE
const PROFILE_SECONDS = Number(process.env.BENCH_PROFILE_SECONDS ?? 60)
if (!Number.isInteger(COUNT) || COUNT < 1) throw new Error('BENCH_CLUSTERS must be a positive integer')
if (flagsEnv !== 'recommended' && flagsEnv !== 'defaults') throw new Error('BENCH_METACONTROLLER must be recommended or defaults')
const FLAGS: MetacontrollerFlags = flagsEnv
if (!['off', 'on', 'compare'].includes(ETAG)) throw new Error('BENCH_ETAG must be off, on or compare')
if (CREATE !== 'api' && CREATE !== 'kubectl') throw new Error('BENCH_CREATE must be api or kubectl')

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ')
const out = (line: string) => process.stdout.write(`${line}\n`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`

/** Sum of the samples of `name` (exact metric name) whose labels contain every `labels` pair; 0 when there are none yet. */
function sum(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue
    total += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return total
}
/** Sums by the value of one label, e.g. apiserver requests by verb. */
function byLabel(text: string, name: string, label: string): Record<string, number> {
  const result: Record<string, number> = {}
  const re = new RegExp(`^${name}\\{[^}]*\\b${label}="([^"]*)"[^}]*\\} (\\S+)$`, 'gm')
  for (const m of text.matchAll(re)) result[m[1] ?? ''] = (result[m[1] ?? ''] ?? 0) + Number(m[2])
  return result
}

const clockTicks = 100 // USER_HZ on Linux
/** CPU seconds of a process: its own, and that of its waited-for children (helm, promtool). */
function cpu(pid: number): { self: number; children: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const n = (i: number) => Number(fields[i - 3])
    return { self: (n(14) + n(15)) / clockTicks, children: (n(16) + n(17)) / clockTicks }
  } catch {
    return { self: NaN, children: NaN }
  }
}
function status(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(m?.[1]) * 1024
}

interface Snapshot {
  at: number
  hook: string
  metacontroller: string
  apiserver: string
  cpu: Record<string, { self: number; children: number }>
}

const cluster: Cluster = await startCluster({
  metacontrollerFlags: FLAGS,
  profiling: PROFILE_DIR !== undefined,
  persistentVolumes: COUNT + 10,
  // Room for every pod (each requests 100m and 512Mi) and the PersistentVolumes they bind.
  nodeResources: { pods: String(COUNT + 110), cpu: String(Math.max(64, COUNT)), memory: `${String(Math.max(256, COUNT))}Gi` }
})
const certificates = await hookCertificates()
// The compiled server, as production runs it (npm run bench:e2e builds it first): tsx alone adds ~38 MiB of RSS.
const hook = await startHook(certificates, await freePort(), await freePort(), {}, 'dist')
try {
  const url = hook.opsUrl
  const hookPid = hook.child.pid ?? NaN
  const pids = (): Record<string, number> => ({ ...cluster.pids(), hook: hookPid })
  const snapshot = async (): Promise<Snapshot> => {
    const [h, m, a] = await Promise.all([
      fetch(`${url}/metrics`).then((r) => r.text()),
      fetch(String(cluster.metacontrollerMetricsUrl)).then((r) => r.text()),
      cluster.kubectlOk(['get', '--raw', '/metrics'])
    ])
    return { at: performance.now(), hook: h, metacontroller: m, apiserver: a, cpu: Object.fromEntries(Object.entries(pids()).map(([n, p]) => [n, cpu(p)])) }
  }
  const hookSyncs = (text: string) => sum(text, 'pcc_hook_requests_total', { hook: 'sync' })

  // RSS every 250 ms for the whole run.
  let rssMax = 0
  const sampler = setInterval(() => {
    try {
      rssMax = Math.max(rssMax, status(hookPid, 'VmRSS'))
    } catch {
      // the hook is gone; the run fails elsewhere
    }
  }, 250)

  await installController(cluster, certificates, hook.url, RESYNC_SECONDS)
  if (ETAG === 'on') await setEtag(true)
  await cluster.kubectlOk(['create', 'namespace', 'bench'])
  const proms = await watch<WatchedObject>(cluster, '/apis/relaxdiego.com/v1alpha1/namespaces/bench/prometheusclusters')
  const statefulSets = await watch<WatchedObject>(cluster, '/apis/apps/v1/namespaces/bench/statefulsets')

  out(`# ${String(COUNT)} PrometheusClusters created at once; Metacontroller ${FLAGS}: ${cluster.metacontrollerArgs.join(' ')}`)
  out(`# load average before: ${load()}`)
  const resources = Array.from({ length: COUNT }, (_, i) => ({
    apiVersion: 'relaxdiego.com/v1alpha1',
    kind: 'PrometheusCluster',
    metadata: { name: `c-${String(i).padStart(4, '0')}`, namespace: 'bench' },
    spec: {}
  }))
  const before = await snapshot()
  // The load generator: this process (creating, watching) and the kubectl processes it waited for.
  const generatorBefore = cpu(process.pid)
  const profiles = PROFILE_DIR === undefined ? Promise.resolve() : profile(PROFILE_DIR)
  const started = performance.now()
  if (CREATE === 'api') {
    await createAll('/apis/relaxdiego.com/v1alpha1/namespaces/bench/prometheusclusters', resources, 32)
  } else {
    // kubectl apply of a List of 1,000 objects takes a while by itself: 200 at a time, side by side.
    const batches = Array.from({ length: Math.ceil(COUNT / 200) }, (_, i) => resources.slice(i * 200, i * 200 + 200))
    await Promise.all(batches.map((b) => cluster.apply(b)))
  }
  const applied = (performance.now() - started) / 1000

  const isReady = (o: WatchedObject) => ((o.status?.conditions ?? []) as { type: string; status: string }[]).some((c) => c.type === 'Ready' && c.status === 'True')
  const ready = new Set<string>()
  const stsSeen = new Set<string>()
  let allSts: number | undefined
  let allReady: number | undefined
  let loadAtReady = ''
  for (;;) {
    for (const e of statefulSets.events) stsSeen.add(e.object.metadata.name)
    for (const e of proms.events) if (isReady(e.object)) ready.add(e.object.metadata.name)
    statefulSets.events.length = 0
    proms.events.length = 0
    const seconds = (performance.now() - started) / 1000
    if (allSts === undefined && stsSeen.size >= COUNT) allSts = seconds
    if (ready.size >= COUNT) {
      allReady = seconds
      loadAtReady = load()
      break
    }
    if (seconds > TIMEOUT_S) throw new Error(`not converged after ${String(TIMEOUT_S)} s: ${String(stsSeen.size)} StatefulSets, ${String(ready.size)} Ready`)
    await sleep(100)
  }
  proms.stop()
  statefulSets.stop()
  const generator = cpu(process.pid)
  const converged = await snapshot()
  await profiles

  out(`created in ${applied.toFixed(1)} s (${CREATE === 'api' ? 'POSTs to the API server, 32 at a time' : 'kubectl apply, 200 a call, 5 side by side'})`)
  out(`every StatefulSet exists after ${allSts?.toFixed(1) ?? '?'} s`)
  out(`every status Ready after ${allReady.toFixed(1)} s  (load average then: ${loadAtReady})`)
  out(`load generator CPU seconds (not in the figures below): this process ${(generator.self - generatorBefore.self).toFixed(1)}, kubectl ${(generator.children - generatorBefore.children).toFixed(1)}`)
  report('convergence', before, converged)
  out(`events in namespace bench, by source and reason: ${await eventReasons()}`)

  if (RESYNC) {
    const first = await resync('resync of the unchanged clusters')
    if (ETAG === 'compare') {
      out('')
      out('# enabling webhook.etag in the CompositeController (Metacontroller restarts the controller and syncs every parent, filling its cache)')
      await setEtag(true)
      await resync('first sync with ETag (cache filling)')
      const second = await resync('resync with ETag')
      out(`ETag: resync hook time ${second.hookSeconds.toFixed(2)} s vs ${first.hookSeconds.toFixed(2)} s without; hook CPU ${second.hookCpu.toFixed(2)} s vs ${first.hookCpu.toFixed(2)} s; Metacontroller CPU ${second.mcCpu.toFixed(2)} s vs ${first.mcCpu.toFixed(2)} s; wall ${second.wall.toFixed(1)} s vs ${first.wall.toFixed(1)} s`)
    }
  }
  clearInterval(sampler)
  out(`hook RSS: max of the 250 ms samples ${mib(rssMax)}; peak (VmHWM) ${mib(status(hookPid, 'VmHWM'))}`)
  out(`# load average after: ${load()}`)

  async function setEtag(enabled: boolean): Promise<void> {
    const etag = enabled ? { enabled: true, cacheTimeoutSeconds: 3 * RESYNC_SECONDS, cacheCleanupSeconds: RESYNC_SECONDS } : { enabled: false }
    const hooks = Object.fromEntries(['sync', 'finalize'].map((h) => [h, { webhook: { etag } }]))
    await cluster.kubectlOk(['patch', 'compositecontroller', 'prometheus-cluster-controller', '--type=merge', '-p', JSON.stringify({ spec: { hooks } })])
  }

  /** Waits for the next burst of at least COUNT sync calls and reports it. */
  async function resync(title: string): Promise<{ wall: number; hookSeconds: number; hookCpu: number; mcCpu: number }> {
    // Quiet first: no sync call for 3 s.
    let last = await snapshot()
    for (let quiet = 0; quiet < 3000; ) {
      await sleep(500)
      const now = await snapshot()
      quiet = hookSyncs(now.hook) === hookSyncs(last.hook) ? quiet + 500 : 0
      last = now
    }
    const base = last
    const deadline = performance.now() + (RESYNC_SECONDS + 600) * 1000
    let firstAt: number | undefined
    let end = base
    for (;;) {
      await sleep(200)
      const now = await snapshot()
      const n = hookSyncs(now.hook) - hookSyncs(base.hook)
      if (n > 0) firstAt ??= now.at
      if (n >= COUNT && hookSyncs(now.hook) === hookSyncs(end.hook)) break
      end = now
      if (performance.now() > deadline) throw new Error(`${title}: only ${String(n)} sync calls`)
    }
    const wall = (end.at - (firstAt ?? end.at)) / 1000 + 0.2
    out('')
    out(`## ${title} (load average ${load()})`)
    out(`${String(hookSyncs(end.hook) - hookSyncs(base.hook))} sync calls in ${wall.toFixed(1)} s (from the first call seen to the last, 200 ms polls)`)
    report(title, base, end)
    return {
      wall,
      hookSeconds: sum(end.hook, 'pcc_hook_request_duration_seconds_sum') - sum(base.hook, 'pcc_hook_request_duration_seconds_sum'),
      hookCpu: (end.cpu.hook?.self ?? NaN) - (base.cpu.hook?.self ?? NaN),
      mcCpu: (end.cpu.metacontroller?.self ?? NaN) - (base.cpu.metacontroller?.self ?? NaN)
    }
  }
} finally {
  await hook.stop()
  await cluster.stop()
  await certificates.remove()
}

/** POSTs every object to `collection`, `concurrency` requests at a time on kept-alive connections. */
async function createAll(collection: string, objects: object[], concurrency: number): Promise<void> {
  const tls = { ca: readFileSync(cluster.tls.ca), cert: readFileSync(cluster.tls.cert), key: readFileSync(cluster.tls.key) }
  const pool = new Pool(cluster.server, { connections: concurrency, pipelining: 1, connect: tls })
  try {
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < objects.length) {
        const object = objects[next++]
        const res = await pool.request({ path: collection, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(object) })
        const body = await res.body.text()
        if (res.statusCode !== 201) throw new Error(`POST ${collection}: HTTP ${String(res.statusCode)}: ${body.slice(0, 300)}`)
      }
    }
    await Promise.all(Array.from({ length: concurrency }, worker))
  } finally {
    await pool.close()
  }
}

/** "component reason count, ..." of the events in namespace bench, most first (each event's count, so repeats add up). */
async function eventReasons(): Promise<string> {
  const list = JSON.parse(await cluster.kubectlOk(['get', 'events', '-n', 'bench', '-o', 'json'])) as {
    items: { reason?: string; count?: number; source?: { component?: string }; reportingComponent?: string }[]
  }
  const counts = new Map<string, number>()
  for (const e of list.items) {
    const key = `${e.source?.component || e.reportingComponent || '?'} ${e.reason ?? '?'}`
    counts.set(key, (counts.get(key) ?? 0) + (e.count ?? 1))
  }
  return [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${String(n)}`).join(', ')
}

/** GET of a component's /debug/pprof/ path (loopback; the admin certificate for the https ones, whose serving certificates are self-signed). */
function pprofGet(url: string): Promise<Buffer> {
  if (url.startsWith('http:')) return fetch(url).then(async (r) => Buffer.from(await r.arrayBuffer()))
  const tls = { cert: readFileSync(cluster.tls.cert), key: readFileSync(cluster.tls.key), rejectUnauthorized: false }
  return new Promise((resolve, reject) => {
    httpsRequest(url, tls, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`${url}: ${String(res.statusCode)} ${Buffer.concat(chunks).toString().slice(0, 200)}`))))
    })
      .on('error', reject)
      .end()
  })
}

/** CPU profiles of every profiled component over the next PROFILE_SECONDS, side by side, into dir. */
async function profile(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true })
  await Promise.all(
    Object.entries(cluster.profileUrls).map(async ([name, base]) => {
      const data = await pprofGet(`${base}profile?seconds=${String(PROFILE_SECONDS)}`)
      writeFileSync(join(dir, `${name}.pprof`), data)
      out(`profile: ${join(dir, `${name}.pprof`)} (${String(PROFILE_SECONDS)} s)`)
    })
  )
}

function report(title: string, a: Snapshot, b: Snapshot): void {
  const d = (text: (s: Snapshot) => string, name: string, labels: Record<string, string> = {}) => sum(text(b), name, labels) - sum(text(a), name, labels)
  const hook = (s: Snapshot) => s.hook
  const mc = (s: Snapshot) => s.metacontroller
  const api = (s: Snapshot) => s.apiserver
  const seconds = (b.at - a.at) / 1000
  out(`### where the time goes (${title}, ${seconds.toFixed(1)} s)`)
  out(
    `CPU seconds: ${Object.keys(b.cpu)
      .map((n) => {
        const self = (b.cpu[n]?.self ?? NaN) - (a.cpu[n]?.self ?? NaN)
        const children = (b.cpu[n]?.children ?? NaN) - (a.cpu[n]?.children ?? NaN)
        return `${n} ${self.toFixed(1)}${children > 0 ? ` (+${children.toFixed(1)} helm/promtool)` : ''}`
      })
      .join(', ')}`
  )
  const calls = d(hook, 'pcc_hook_request_duration_seconds_count')
  const hookSum = d(hook, 'pcc_hook_request_duration_seconds_sum')
  const codes = byLabel(b.hook, 'pcc_hook_requests_total', 'code')
  const codesBefore = byLabel(a.hook, 'pcc_hook_requests_total', 'code')
  out(
    `hook: ${String(calls)} calls (${Object.entries(codes).map(([c, n]) => `${c}: ${String(n - (codesBefore[c] ?? 0))}`).join(', ')}), ` +
      `request time ${hookSum.toFixed(2)} s (mean ${((1000 * hookSum) / calls).toFixed(1)} ms); ` +
      `helm started ${String(d(hook, 'pcc_subprocesses_started_total', { tool: 'helm' }))}, promtool ${String(d(hook, 'pcc_subprocesses_started_total', { tool: 'promtool' }))}; ` +
      `render cache ${String(sum(b.hook, 'pcc_render_cache_entries'))} entries, lookups hit ${String(d(hook, 'pcc_render_cache_lookups_total', { outcome: 'hit' }))} miss ${String(d(hook, 'pcc_render_cache_lookups_total', { outcome: 'miss' }))}`
  )
  const mcHookCount = d(mc, 'metacontroller_sync_request_duration_histogram_seconds_count') + (d(mc, 'metacontroller_finalize_request_duration_histogram_seconds_count') || 0)
  const mcHookSum = d(mc, 'metacontroller_sync_request_duration_histogram_seconds_sum') + (d(mc, 'metacontroller_finalize_request_duration_histogram_seconds_sum') || 0)
  const restByVerb = Object.fromEntries(
    Object.entries(byLabel(b.metacontroller, 'rest_client_requests_total', 'method')).map(([k, v]) => [k, v - (byLabel(a.metacontroller, 'rest_client_requests_total', 'method')[k] ?? 0)])
  )
  const queues = byLabel(b.metacontroller, 'workqueue_queue_duration_seconds_sum', 'name')
  const queuesBefore = byLabel(a.metacontroller, 'workqueue_queue_duration_seconds_sum', 'name')
  const work = byLabel(b.metacontroller, 'workqueue_work_duration_seconds_sum', 'name')
  const workBefore = byLabel(a.metacontroller, 'workqueue_work_duration_seconds_sum', 'name')
  out(
    `metacontroller: hook calls ${String(mcHookCount)} taking ${mcHookSum.toFixed(2)} s as it saw them; API requests ${JSON.stringify(restByVerb)}; ` +
      `work queues (waiting / working, s): ${Object.keys(queues)
        .map((q) => `${q} ${((queues[q] ?? 0) - (queuesBefore[q] ?? 0)).toFixed(1)} / ${((work[q] ?? 0) - (workBefore[q] ?? 0)).toFixed(1)}`)
        .join(', ')}`
  )
  const verbs = byLabel(b.apiserver, 'apiserver_request_total', 'verb')
  const verbsBefore = byLabel(a.apiserver, 'apiserver_request_total', 'verb')
  const durations = byLabel(b.apiserver, 'apiserver_request_duration_seconds_sum', 'verb')
  const durationsBefore = byLabel(a.apiserver, 'apiserver_request_duration_seconds_sum', 'verb')
  out(
    `apiserver: requests ${Object.keys(verbs)
      .filter((v) => v !== 'WATCH' && v !== 'CONNECT')
      .map((v) => `${v} ${String((verbs[v] ?? 0) - (verbsBefore[v] ?? 0))} (${((durations[v] ?? 0) - (durationsBefore[v] ?? 0)).toFixed(1)} s)`)
      .join(', ')}; ` + `priority-and-fairness queue wait ${d(api, 'apiserver_flowcontrol_request_wait_duration_seconds_sum').toFixed(1)} s`
  )
  const writes = new Map<string, number>()
  for (const [s, sign] of [[b, 1], [a, -1]] as const) {
    for (const m of s.apiserver.matchAll(/^apiserver_request_total\{([^}]*)\} (\S+)$/gm)) {
      const label = (n: string) => new RegExp(`\\b${n}="([^"]*)"`).exec(m[1] ?? '')?.[1] ?? ''
      if (!['POST', 'PUT', 'PATCH', 'DELETE', 'APPLY'].includes(label('verb'))) continue
      const key = `${label('verb')} ${label('resource')}${label('subresource') ? `/${label('subresource')}` : ''}`
      writes.set(key, (writes.get(key) ?? 0) + sign * Number(m[2]))
    }
  }
  out(`apiserver writes: ${[...writes].filter(([, n]) => n > 0).sort((x, y) => y[1] - x[1]).map(([k, n]) => `${k} ${String(n)}`).join(', ')}`)
}
