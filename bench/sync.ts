// npm run bench: the hook's speed and memory, printed. Not a test: the numbers depend on the machine.
// Everything runs over mutual TLS, as installed: the hook and the bare route get the same
// certificates (scripts/make-certs.sh into a temporary directory), and the load presents the same
// client certificate on kept-alive connections. BENCH_TLS=0 runs both over plain HTTP instead, to
// compare.
//  1. warm sync (render cached): p50/p99 latency and requests/s, next to a bare Fastify route that
//     parses and returns the same body over the same TLS; the ratio is the figure (target >= 90%).
//     The two servers take turns in BENCH_ROUNDS rounds, so other load on a shared machine falls
//     on both alike.
//  2. cold sync (every spec new): latency next to a bare `helm template` of the same values
//     (target <= 1.2x), one of each in turn.
//  3. RSS of the hook after 10,000 syncs over 500 distinct specs (target < 150 MiB).
// Servers run as child processes on loopback (the hook as built for production: dist/server.js);
// the load comes from this process through undici.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Pool } from 'undici'
import { hookNodeFlags } from '../harness/hook-process.js'
import { Value } from '@sinclair/typebox/value'
import { PrometheusClusterSpec } from '../src/api/spec.js'
import { loadConfig } from '../src/config.js'
import { chartValues } from '../src/core/values.js'
import { helmTemplate } from '../src/render/helm.js'

const root = resolve(import.meta.dirname, '..')
const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent' })
const WARM_REQUESTS = Number(process.env.BENCH_WARM_REQUESTS ?? 20_000)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16)
const COLD_REQUESTS = Number(process.env.BENCH_COLD_REQUESTS ?? 40)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10)

const TLS = process.env.BENCH_TLS !== '0'
const certs = mkdtempSync(join(tmpdir(), 'pcc-bench-certs-'))
process.on('exit', () => rmSync(certs, { recursive: true, force: true }))
execFileSync(join(root, 'scripts', 'make-certs.sh'), [certs], { env: { ...process.env, EXTRA_SANS: 'IP:127.0.0.1' }, stdio: 'ignore' })
const pem = (name: string) => readFileSync(join(certs, name), 'utf8')
const tlsEnv: Record<string, string> = TLS ? { TLS_CERT_FILE: join(certs, 'server.crt'), TLS_KEY_FILE: join(certs, 'server.key'), TLS_CLIENT_CA_FILE: join(certs, 'ca.crt'), OPS_PORT: '0' } : {}
const clientTls = TLS ? { ca: pem('ca.crt'), cert: pem('client.crt'), key: pem('client.key') } : {}

interface Server {
  /** The hooks (https). */
  url: string
  /** Probes and metrics (plain http), for the hook. */
  opsUrl?: string
  child: ChildProcess
}

async function startServer(args: string[], env: Record<string, string> = {}): Promise<Server> {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...tlsEnv, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  const bare = args.some((a) => a.endsWith('bare-server.ts'))
  return new Promise<Server>((resolveServer, reject) => {
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const urls = [...out.matchAll(/listening at (https?:\/\/127[^\s"]+)/gi)].map((m) => m[1] ?? '')
      const url = TLS ? urls.find((u) => u.startsWith('https:')) : urls[0]
      const opsUrl = TLS ? urls.find((u) => u.startsWith('http:')) : url
      if (url && (opsUrl || bare)) resolveServer({ url, opsUrl, child })
    })
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)))
  })
}

function stop(server: Server): Promise<void> {
  return new Promise((r) => {
    server.child.on('exit', () => r())
    server.child.kill('SIGTERM')
  })
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
}

async function load(url: string, bodies: string[], count: number, concurrency: number) {
  const pool = new Pool(url, { connections: concurrency, pipelining: 1, connect: clientTls })
  const latencies: number[] = []
  let next = 0
  let failures = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const body = bodies[next++ % bodies.length] ?? ''
        const t0 = performance.now()
        const res = await pool.request({ path: '/sync', method: 'POST', headers: { 'content-type': 'application/json' }, body })
        await res.body.text()
        latencies.push(performance.now() - t0)
        if (res.statusCode !== 200) failures++
      }
    })
  )
  const seconds = (performance.now() - started) / 1000
  await pool.close()
  latencies.sort((a, b) => a - b)
  return { rps: count / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), failures, seconds, latencies }
}

type Result = Awaited<ReturnType<typeof load>> & { cpuMsPerRequest: number }

/** CPU seconds (user + system) a process has used, from /proc (Linux); NaN elsewhere. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid ?? 0}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return NaN
  }
}

/**
 * `count` requests to each server, in ROUNDS turns alternating which goes first; totals per server,
 * with the server's CPU time per request (unlike requests/s, barely moved by other load).
 */
async function alternate(servers: [Server, Server], bodies: string[], count: number): Promise<[Result, Result]> {
  const per = Math.ceil(count / ROUNDS)
  const rounds: [Result[], Result[]] = [[], []]
  for (let r = 0; r < ROUNDS; r++) {
    for (const i of r % 2 === 0 ? [0, 1] : [1, 0]) {
      const server = servers[i]
      const cpu0 = cpuSeconds(server?.child.pid)
      const result = await load(server?.url ?? '', bodies, per, CONCURRENCY)
      rounds[i]?.push({ ...result, cpuMsPerRequest: ((cpuSeconds(server?.child.pid) - cpu0) * 1000) / per })
    }
  }
  const total = (results: Result[]): Result => {
    const latencies = results.flatMap((x) => x.latencies).sort((a, b) => a - b)
    const seconds = results.reduce((sum, x) => sum + x.seconds, 0)
    const cpuMsPerRequest = results.reduce((sum, x) => sum + x.cpuMsPerRequest, 0) / results.length
    return { rps: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), failures: results.reduce((sum, x) => sum + x.failures, 0), seconds, latencies, cpuMsPerRequest }
  }
  return [total(rounds[0]), total(rounds[1])]
}

function specBody(template: Record<string, unknown>, i: number): Record<string, unknown> {
  const b = structuredClone(template) as { parent: { spec: Record<string, unknown> } }
  b.parent.spec = { ...b.parent.spec, externalLabels: { bench: `spec-${i}` } }
  return b
}

const fmt = (n: number) => n.toFixed(2)
const fixture = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'simple-sync-observed.json'), 'utf8')) as Record<string, unknown>
const warmBody = JSON.stringify(fixture)
console.log(`machine: ${process.platform} ${process.arch}, node ${process.version}; helm ${config.helmBin}; body ${warmBody.length} bytes; concurrency ${CONCURRENCY}; ${TLS ? 'mutual TLS (ECDSA P-256)' : 'plain HTTP'} on both servers`)

// 1. warm sync vs bare route, taking turns
const bare = await startServer(['--import', 'tsx', join(root, 'bench', 'bare-server.ts')])
const hook = await startServer([...hookNodeFlags(), join(root, 'dist', 'server.js')])
await load(bare.url, [warmBody], 2000, CONCURRENCY)
await load(hook.url, [warmBody], 2000, CONCURRENCY)
const [warmResult, bareResult] = await alternate([hook, bare], [warmBody], WARM_REQUESTS)
await stop(bare)
console.log(`\nwarm sync   ${fmt(warmResult.rps)} req/s  p50 ${fmt(warmResult.p50)} ms  p99 ${fmt(warmResult.p99)} ms  (non-200: ${warmResult.failures})`)
console.log(`bare route  ${fmt(bareResult.rps)} req/s  p50 ${fmt(bareResult.p50)} ms  p99 ${fmt(bareResult.p99)} ms`)
console.log(`warm/bare throughput: ${fmt((100 * warmResult.rps) / bareResult.rps)}%  (target >= 90%; ${ROUNDS} rounds each)`)
console.log(`server CPU per request: warm sync ${fmt(warmResult.cpuMsPerRequest)} ms, bare route ${fmt(bareResult.cpuMsPerRequest)} ms: bare/warm ${fmt((100 * bareResult.cpuMsPerRequest) / warmResult.cpuMsPerRequest)}%  (the throughput ratio of an otherwise idle machine whose server is the bottleneck)`)

// 2. cold sync vs bare helm template, one request at a time, one of each in turn
const coldLatencies: number[] = []
let coldFailures = 0
const helmTimes: number[] = []
// One kept-alive connection, as Metacontroller's client keeps one.
const coldPool = new Pool(hook.url, { connections: 1, pipelining: 1, connect: clientTls })
for (let i = 0; i < COLD_REQUESTS; i++) {
  const t1 = performance.now()
  const res = await coldPool.request({ path: '/sync', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(specBody(fixture, 100_000 + i)) })
  await res.body.text()
  coldLatencies.push(performance.now() - t1)
  if (res.statusCode !== 200) coldFailures++
  const spec = Value.Default(PrometheusClusterSpec, { externalLabels: { bench: `helm-${i}` } }) as PrometheusClusterSpec
  const values = chartValues('simple-prometheus-instance', 'example', spec)
  const t0 = performance.now()
  await helmTemplate('simple-prometheus-instance', 'example', values, { helmBin: config.helmBin, chartPath: config.chartPath, kubeVersion: config.kubeVersion, timeoutMs: 9000 })
  helmTimes.push(performance.now() - t0)
}
await coldPool.close()
helmTimes.sort((a, b) => a - b)
coldLatencies.sort((a, b) => a - b)
const cold = { p50: percentile(coldLatencies, 50), p99: percentile(coldLatencies, 99) }
console.log(`\ncold sync   p50 ${fmt(cold.p50)} ms  p99 ${fmt(cold.p99)} ms  (non-200: ${coldFailures})`)
console.log(`bare helm   p50 ${fmt(percentile(helmTimes, 50))} ms  p99 ${fmt(percentile(helmTimes, 99))} ms`)
console.log(`cold/helm p50: ${fmt(cold.p50 / percentile(helmTimes, 50))}x  (target <= 1.2x)`)
await stop(hook)

// 3. memory after 10,000 syncs over 500 distinct specs, in a fresh hook process
const fresh = await startServer([...hookNodeFlags(), join(root, 'dist', 'server.js')])
const distinct = Array.from({ length: 500 }, (_, i) => JSON.stringify(specBody(fixture, i)))
const memoryRun = await load(fresh.url, distinct, 10_000, CONCURRENCY)
const metrics = await (await fetch(`${fresh.opsUrl ?? ''}/metrics`)).text()
const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1])
const rss = metric('process_resident_memory_bytes')
const helmStarted = Number(/^pcc_subprocesses_started_total\{tool="helm"\} (\S+)$/m.exec(metrics)?.[1])
console.log(`\n10,000 syncs over 500 specs: ${fmt(memoryRun.rps)} req/s, non-200: ${memoryRun.failures}, helm processes started: ${helmStarted}`)
const mib = (bytes: number) => fmt(bytes / 1024 / 1024)
console.log(`hook RSS after: ${mib(rss)} MiB  (target < 150 MiB); V8 heap used ${mib(metric('nodejs_heap_size_used_bytes'))} of ${mib(metric('nodejs_heap_size_total_bytes'))} MiB, external ${mib(metric('nodejs_external_memory_bytes'))} MiB`)
await stop(fresh)
