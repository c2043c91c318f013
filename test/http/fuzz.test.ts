// Hostile bodies, generated from a seed (FUZZ_SEED, printed) by mutating the fixtures: wrong types,
// deep nesting, huge strings, odd unicode, __proto__ keys, missing fields, forged observed
// children. Every answer must be 200 or 4xx, never 5xx; no answer may hold a child outside the
// parent's namespace or one the hook does not render; helm may start only for a valid spec; the
// process's memory stays bounded. Bounded: FUZZ_BODIES bodies (10,000), each answered in turn.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import type { KubeObject } from '../../src/api/hook-request.js'
import { validateHookRequest } from '../../src/api/validate.js'
import { childNames } from '../../src/core/names.js'
import { buildApp, createServices } from '../../src/app.js'
import { FIXED_NOW, testConfig } from '../helpers/env.js'
import { FIXTURES_DIR } from '../helpers/fixtures.js'

const BODIES = Number(process.env.FUZZ_BODIES ?? 10_000)
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000)
const MAX_RSS_GROWTH = 400 * 1024 * 1024

/** mulberry32: a small seeded generator, so a failing run can be replayed with its seed. */
function generator(seed: number) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = Math.imul(a ^ (a >>> 15), 1 | a)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number) => Math.floor(next() * n)
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T
  return { next, int, pick }
}
type Rng = ReturnType<typeof generator>

const ODD_STRINGS = [
  '',
  '\u0000',
  '\ud800',
  '\udfff\ud800',
  '\u202e\u2066evil\u2069',
  '\u200b\u200d\ufeff',
  '\u2028\u2029\u0085',
  'ǅǈǋ ﬃ ß İ',
  '🚀'.repeat(1000),
  '../../etc/passwd',
  '{{ .Values.config }}',
  '$(id)`id`',
  'kube-system',
  '--- !!js/function "x"',
  '\\u0000',
  '%n%s%x'
]

function hostileValue(rng: Rng, depth = 0): unknown {
  switch (rng.int(depth > 2 ? 8 : 11)) {
    case 0:
      return null
    case 1:
      return rng.pick([0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 31])
    case 2:
      return rng.next() < 0.5
    case 3:
      return rng.pick(ODD_STRINGS)
    case 4:
      return 'x'.repeat(rng.pick([256, 4097, 70_000, 300_000]))
    case 5:
      return rng.pick(ODD_STRINGS).repeat(rng.int(50) + 1)
    case 6:
      return []
    case 7:
      return {}
    case 8:
      return Array.from({ length: rng.int(4) }, () => hostileValue(rng, depth + 1))
    case 9:
      return Object.fromEntries(Array.from({ length: rng.int(4) }, () => [rng.pick(ODD_STRINGS) || 'k', hostileValue(rng, depth + 1)]))
    default: {
      // Deep nesting.
      let nested: unknown = 'bottom'
      for (let i = rng.pick([10, 500, 3000]); i > 0; i--) nested = rng.next() < 0.5 ? [nested] : { a: nested }
      return nested
    }
  }
}

/** Every path to a value in `value`, as arrays of keys. */
function paths(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = [], depth = 0): (string | number)[][] {
  out.push(prefix)
  if (depth > 12 || typeof value !== 'object' || value === null) return out
  for (const [k, v] of Object.entries(value)) paths(v, [...prefix, Array.isArray(value) && /^\d+$/.test(k) ? Number(k) : k], out, depth + 1)
  return out
}

function at(root: unknown, path: (string | number)[]): { parent: Record<string | number, unknown>; key: string | number } | undefined {
  if (path.length === 0) return undefined
  let node = root as Record<string | number, unknown>
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>
  return { parent: node, key: path[path.length - 1] as string | number }
}

function forgedChild(rng: Rng, namespace: string): [string, string, KubeObject] {
  const kind = rng.pick(['ConfigMap', 'StatefulSet', 'RoleBinding', 'Secret', 'Pod', 'ClusterRoleBinding'])
  const apiVersion = { ConfigMap: 'v1', Secret: 'v1', Pod: 'v1', StatefulSet: 'apps/v1', RoleBinding: 'rbac.authorization.k8s.io/v1', ClusterRoleBinding: 'rbac.authorization.k8s.io/v1' }[kind] ?? 'v1'
  const ns = rng.pick([namespace, 'kube-system', 'default', ''])
  const name = rng.pick(['pwned', 'promcluster-simple-prometheus-instance', 'promcluster-simple-prometheus-instance-config', 'promcluster-full-prometheus'])
  const forged = { apiVersion, kind, metadata: { name, namespace: 'kube-system' }, roleRef: { kind: 'ClusterRole', name: 'cluster-admin' } }
  const child: KubeObject = {
    apiVersion: rng.next() < 0.8 ? apiVersion : 'v1',
    kind,
    metadata: { name, namespace: ns, annotations: { 'metacontroller.k8s.io/last-applied-configuration': rng.next() < 0.8 ? JSON.stringify(forged) : String(hostileValue(rng)) } }
  }
  return [`${kind}.${apiVersion}`, `${ns}/${name}`, child]
}

/** One hostile body as JSON text, from a fixture. */
function mutate(rng: Rng, base: Record<string, unknown>): string {
  const body = structuredClone(base)
  const declared = (body.parent as { metadata?: { namespace?: unknown } } | undefined)?.metadata?.namespace
  const namespace = typeof declared === 'string' ? declared : 'example'
  for (let n = rng.int(3) + 1; n > 0; n--) {
    const operation = rng.int(5)
    const all = paths(body)
    const target = at(body, rng.pick(all))
    if (operation === 0 && target) {
      target.parent[target.key] = hostileValue(rng)
    } else if (operation === 1 && target) {
      if (Array.isArray(target.parent)) target.parent.splice(Number(target.key), 1)
      else Reflect.deleteProperty(target.parent, target.key)
    } else if (operation === 2) {
      const children = (typeof body.children === 'object' && body.children !== null ? body.children : (body.children = {})) as Record<string, unknown>
      const [type, key, child] = forgedChild(rng, namespace)
      const byName = children[type]
      if (typeof byName === 'object' && byName !== null) (byName as Record<string, unknown>)[key] = child
      else children[type] = { [key]: child }
    } else if (operation === 3 && target && typeof target.parent === 'object') {
      target.parent[rng.pick(ODD_STRINGS) || 'x'] = hostileValue(rng)
    } else {
      const spec = (body.parent as { spec?: Record<string, unknown> } | undefined)?.spec
      if (spec && typeof spec === 'object') spec[rng.pick(['replicas', 'version', 'image', 'config', 'externalLabels', 'storage', 'rules', 'paused', 'resources'])] = hostileValue(rng)
    }
  }
  let text = JSON.stringify(body)
  // Prototype keys can only be written as JSON text: an object literal's __proto__ sets the prototype.
  if (rng.next() < 0.1) text = text.replace('{', `{"${rng.pick(['__proto__', 'constructor'])}":{"polluted":true,"prototype":{"polluted":true}},`)
  return text
}

// Bounded by count, not by a clock: this file may take longer than the suite's per-file timeout
// on a loaded machine, and a slow run is not a failure.
t.setTimeout(600_000)

t.test(`${BODIES} hostile bodies (seed ${SEED}): never a 5xx, never a stranger child, helm only for a valid spec`, async (t) => {
  const config = testConfig()
  const services = await createServices(config)
  const app = await buildApp({ config, services, logger: false, now: () => FIXED_NOW })
  t.teardown(() => app.close())
  const fixtures = readdirSync(FIXTURES_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(FIXTURES_DIR, f), 'utf8')) as Record<string, unknown>)
  // Read from the registry itself: a /metrics call per body would double the run.
  const startedCounter = services.metrics.registry.getSingleMetric('pcc_subprocesses_started_total')
  const helmStarts = async () => (await startedCounter?.get())?.values.find((v) => v.labels.tool === 'helm')?.value ?? Number.NaN
  const rng = generator(SEED)
  const statusCounts: Record<string, number> = {}
  const rssStart = process.memoryUsage().rss
  let rssMax = rssStart
  let failures = 0
  const started = Date.now()
  let helm = await helmStarts()
  for (let i = 0; i < BODIES && failures < 5; i++) {
    const url = rng.pick(['/sync', '/sync', '/finalize'])
    const text = rng.next() < 0.02 ? rng.pick(['', 'null', '[]', '"x"', '{', '{"parent":', '1e999', '{"a":'.repeat(20_000)]) : mutate(rng, rng.pick(fixtures))
    const res = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: text })
    statusCounts[res.statusCode] = (statusCounts[res.statusCode] ?? 0) + 1
    const fail = (why: string) => {
      failures++
      t.fail(`body #${i} to ${url} (seed ${SEED}): ${why}`)
    }
    if (res.statusCode >= 500 || res.statusCode < 200) fail(`answered ${res.statusCode}: ${res.body.slice(0, 300)}`)
    const helmNow = await helmStarts()
    let parsed: unknown
    try {
      parsed = JSON.parse(text) as unknown
    } catch {
      parsed = undefined
    }
    const validated = validateHookRequest(parsed)
    if (helmNow > helm && !(url === '/sync' && validated.ok && validated.spec.ok && validated.spec.spec.paused !== true)) fail('helm started for a body without a valid spec')
    helm = helmNow
    if (res.statusCode === 200 && validated.ok) {
      const { name, namespace } = validated.request.parent.metadata
      const names = childNames(name) as Record<string, readonly string[]>
      for (const child of res.json<{ children: KubeObject[] }>().children) {
        if (child.metadata.namespace !== namespace) fail(`a child in namespace ${String(child.metadata.namespace)}, not ${namespace}`)
        if (!names[child.kind]?.includes(child.metadata.name)) fail(`a child the hook does not render: ${child.kind}/${child.metadata.name}`)
      }
    }
    if (i % 500 === 0) rssMax = Math.max(rssMax, process.memoryUsage().rss)
  }
  rssMax = Math.max(rssMax, process.memoryUsage().rss)
  t.equal(failures, 0, 'no failure')
  t.ok(rssMax - rssStart < MAX_RSS_GROWTH, `RSS grew by ${((rssMax - rssStart) / 1048576).toFixed(0)} MiB at most`)
  t.ok((statusCounts['200'] ?? 0) > BODIES / 10 && (statusCounts['422'] ?? 0) > BODIES / 10, `both accepted and refused bodies were generated: ${JSON.stringify(statusCounts)}`)
  t.comment(`${BODIES} bodies in ${((Date.now() - started) / 1000).toFixed(1)} s, seed ${SEED}, answers ${JSON.stringify(statusCounts)}, helm started ${helm} times, RSS +${((rssMax - rssStart) / 1048576).toFixed(0)} MiB`)
})
