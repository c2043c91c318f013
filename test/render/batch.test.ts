// Renders of one namespace waiting for a slot go into one helm run (src/render/batch.ts). Against
// the real helm and promtool: a cluster renders the same in a batch as alone, for every example;
// a batch never mixes namespaces; one cluster's failure stays its own.
import { existsSync, readdirSync } from 'node:fs'
import t from 'tap'
import { Value } from '@sinclair/typebox/value'
import { PrometheusClusterSpec } from '../../src/api/spec.js'
import { validateSpec } from '../../src/api/validate.js'
import { chartValues } from '../../src/core/values.js'
import { batchValues, splitBatchOutput, umbrellaChartYaml, UmbrellaCharts } from '../../src/render/batch.js'
import type { RenderInput, RendererOptions } from '../../src/render/renderer.js'
import { CHART_PATH, ROOT, standIn } from '../helpers/env.js'
import { testRenderer } from '../helpers/renderer.js'
import { parentFrom } from '../helpers/requests.js'

async function renderer(over: Partial<RendererOptions> = {}) {
  // One slot: the first render starts alone, and every render asked for meanwhile waits for it.
  return testRenderer((fn) => t.teardown(fn), { concurrency: 1, ...over })
}

type Input = readonly [identity: string, build: () => RenderInput]

function input(name: string, namespace: string, spec: unknown = {}, values?: (v: ReturnType<typeof chartValues>) => unknown): Input {
  const verdict = validateSpec(spec)
  if (!verdict.ok) throw new Error(`${name}: invalid spec`)
  const s = Value.Default(PrometheusClusterSpec, verdict.spec) as PrometheusClusterSpec
  const build = (): RenderInput => {
    const v = chartValues(name, namespace, s)
    return { release: name, namespace, statefulSetName: `promcluster-${name}`, values: (values ? values(v) : v) as RenderInput['values'], files: { config: v.config, rules: v.rules } }
  }
  return [`${name}\0${namespace}\0${JSON.stringify(s)}${values ? '\0altered' : ''}`, build]
}

const examples = readdirSync(`${ROOT}/examples`).filter((f) => f.endsWith('.yaml')).sort()

t.test('every example renders the same in one batch as alone', async (t) => {
  const inputs = examples.map((e) => input(e.replace(/\.yaml$/, ''), 'team-a', parentFrom(e).spec))
  const alone = await renderer({ batchMax: 1 })
  const batched = await renderer()
  const single = await Promise.all(inputs.map((i) => alone.r.render(...i)))
  const together = await Promise.all(inputs.map((i) => batched.r.render(...i)))
  t.equal(alone.observer.counts['started:helm'], examples.length, 'alone: one helm run each')
  t.equal(batched.observer.counts['started:helm'], 2, 'batched: the first alone, every other one in a second run')
  together.forEach((children, i) => t.equal(children, single[i], examples[i] ?? String(i)))
  t.equal(batched.observer.counts['render:ok'], examples.length)
})

t.test('a batch never mixes namespaces, and is at most batchMax renders', async (t) => {
  const { r, observer } = await renderer({ batchMax: 3 })
  // The first starts alone; then a-1, a-2, a-3 | b-1, b-2 | a-4 (each batch the oldest waiting and those of its namespace behind it).
  const names = [['x', 'a'], ['a-1', 'a'], ['b-1', 'b'], ['a-2', 'a'], ['a-3', 'a'], ['b-2', 'b'], ['a-4', 'a']] as const
  const results = await Promise.all(names.map(([n, ns]) => r.render(...input(n, ns))))
  t.equal(observer.counts['started:helm'], 4)
  results.forEach((json, i) => {
    const [name, namespace] = names[i] ?? ['', '']
    const children = JSON.parse(json) as { metadata: { name: string; namespace: string } }[]
    t.ok(children.length > 0 && children.every((c) => c.metadata.namespace === namespace && c.metadata.name.startsWith(`promcluster-${name}`)), `${name}: its own children, in ${namespace}`)
  })
})

t.test('one cluster\'s values helm rejects: that render fails, the others in its batch succeed', async (t) => {
  const { r, observer } = await renderer()
  const first = r.render(...input('first', 'ns'))
  const bad = r.render(...input('bad', 'ns', {}, (v) => ({ ...v, replicas: -1 })))
  const good = r.render(...input('good', 'ns'))
  await first
  await t.rejects(bad, { code: 'RenderFailed', transient: false, message: /replicas/ })
  t.match(JSON.parse(await good), [{ metadata: { name: 'promcluster-good' } }])
  t.equal(observer.counts['started:helm'], 4, 'the first alone, the failed batch, then each of its two alone')
})

t.test('one cluster\'s configuration promtool rejects: InvalidConfiguration for it alone', async (t) => {
  const { r } = await renderer()
  const first = r.render(...input('first', 'ns'))
  const bad = r.render(...input('bad', 'ns', { rules: { groups: [{ name: 'g', rules: [{ alert: 'A', expr: 'up ==' }] }] } }))
  const good = r.render(...input('good', 'ns'))
  await first
  await t.rejects(bad, { code: 'InvalidConfiguration' })
  t.match(JSON.parse(await good), [{ metadata: { name: 'promcluster-good' } }])
})

t.test('clusters with the same configuration text share one promtool run, also when checked at the same time', async (t) => {
  // Two slots: s1 and s2 start at once, each alone, and ask promtool about the same text together.
  const { r, observer } = await renderer({ concurrency: 2 })
  await Promise.all(['s1', 's2', 's3', 's4'].map((n) => r.render(...input(n, 'same'))))
  t.equal(observer.counts['started:promtool'], 1)
})

t.test('stand-in helm killed by a signal in a batch: every render of it fails as transient and is tried again', async (t) => {
  const helmBin = await standIn('helm', 'kill -9 $$')
  const { r, observer } = await renderer({ helm: { helmBin, chartPath: CHART_PATH, kubeVersion: '1.35.0', timeoutMs: 5000 } })
  const results = await Promise.allSettled(['k1', 'k2', 'k3'].map((n) => r.render(...input(n, 'ns'))))
  for (const result of results) t.match(result, { status: 'rejected', reason: { code: 'RenderFailed', transient: true, message: /killed by SIGKILL/ } })
  t.equal(observer.counts['started:helm'], 2, 'k1 alone, k2 and k3 together; nothing re-run in the slot')
  await t.rejects(r.render(...input('k2', 'ns')), { code: 'RenderFailed', transient: true })
  t.equal(observer.counts['started:helm'], 3, 'not cached')
})

t.test('a batch chart that cannot be written (stand-in: its directory throws): each render alone, nothing lost', async (t) => {
  const { r, observer } = await renderer()
  ;(r as unknown as { umbrellas: { path(): string } }).umbrellas.path = () => {
    throw new Error('EROFS: read-only file system')
  }
  const results = await Promise.all(['t1', 't2', 't3'].map((n) => r.render(...input(n, 'ns'))))
  results.forEach((json, i) => t.match(JSON.parse(json), [{ metadata: { name: `promcluster-t${String(i + 1)}` } }]))
  t.equal(observer.counts['started:helm'], 3, 'one helm run each')
})

t.test('splitBatchOutput: each document to the member its # Source line names', async (t) => {
  const output = ['---', '# Source: batch/charts/r1/templates/a.yaml', 'kind: A', '---', '# Source: batch/charts/r0/templates/b.yaml', 'kind: B', '---', '# Source: batch/charts/r1/templates/c.yaml', 'kind: C', ''].join('\n')
  t.same(splitBatchOutput(output, 2), ['---\n# Source: batch/charts/r0/templates/b.yaml\nkind: B\n', '---\n# Source: batch/charts/r1/templates/a.yaml\nkind: A\n---\n# Source: batch/charts/r1/templates/c.yaml\nkind: C\n'])
  t.same(splitBatchOutput('', 2), ['', ''], 'no output: nothing for anyone (parseChildren then says the StatefulSet is missing)')
  t.throws(() => splitBatchOutput('---\n# Source: batch/templates/x.yaml\nkind: X\n', 2), /names no member: # Source: batch\/templates\/x.yaml/)
  t.throws(() => splitBatchOutput('---\n# Source: batch/charts/r2/templates/x.yaml\nkind: X\n', 2), /names no member/)
  t.throws(() => splitBatchOutput('---\nkind: X\n', 1), /names no member: kind: X/)
})

t.test('the umbrella chart: one aliased dependency per member, values under the aliases, removed by dispose', async (t) => {
  t.equal(
    umbrellaChartYaml({ name: 'prometheus-cluster', version: '0.1.0' }, 2),
    'apiVersion: v2\nname: batch\nversion: 0.0.0\ndescription: 2 renders of prometheus-cluster in one helm run (written by the hook)\ndependencies:\n' +
      '  - name: "prometheus-cluster"\n    version: "0.1.0"\n    alias: r0\n  - name: "prometheus-cluster"\n    version: "0.1.0"\n    alias: r1\n'
  )
  t.same(batchValues([{ a: 1 }, { b: 2 }]), { r0: { a: 1 }, r1: { b: 2 } })
  const charts = new UmbrellaCharts(CHART_PATH)
  const dir = charts.path(3)
  t.equal(charts.path(3), dir, 'written once per size')
  t.ok(existsSync(`${dir}/Chart.yaml`) && existsSync(`${dir}/charts/prometheus-cluster/Chart.yaml`))
  charts.dispose()
  t.notOk(existsSync(dir))
})

t.test('batchWaitMs: renders asked for soon after a helm start gather into one run, though slots are free', async (t) => {
  const names = ['w-0', 'w-1', 'w-2', 'w-3']
  const run = async (batchWaitMs: number) => {
    const { r, observer } = await renderer({ concurrency: 4, batchWaitMs })
    const results = Promise.all(names.map((n) => r.render(...input(n, 'ns'))))
    const startedAtOnce = observer.counts['started:helm']
    const children = await results
    return { startedAtOnce, runs: observer.counts['started:helm'], children }
  }
  const without = await run(0)
  t.equal(without.startedAtOnce, 4, 'no wait: each render takes a free slot at once')
  t.equal(without.runs, 4)
  const waited = await run(1000)
  t.equal(waited.startedAtOnce, 1, 'the first render after a quiet spell starts at once; the others wait')
  t.equal(waited.runs, 2, 'the other three share one run')
  t.same(waited.children, without.children, 'the same children either way')
})

t.test('batchWaitMs: a full batch starts without waiting, and a render that finds none under way starts at once', async (t) => {
  const { r, observer } = await renderer({ concurrency: 4, batchMax: 3, batchWaitMs: 60_000 })
  const first = r.render(...input('q-0', 'ns'))
  t.equal(observer.counts['started:helm'], 1, 'the first starts at once')
  const more = ['q-1', 'q-2'].map((n) => r.render(...input(n, 'ns')))
  t.equal(observer.counts['started:helm'], 1, 'two waiting: fewer than batchMax, so they wait')
  more.push(r.render(...input('q-3', 'ns')))
  t.equal(observer.counts['started:helm'], 2, 'the third makes batchMax: their run starts at once')
  await Promise.all([first, ...more])
  // Well within batchWaitMs of the last start, but nothing is under way: one after another, as a
  // single Metacontroller worker asks, each starts at once.
  for (const name of ['q-4', 'q-5']) {
    const next = r.render(...input(name, 'ns'))
    t.equal(observer.counts['started:helm'], name === 'q-4' ? 3 : 4, `${name} starts at once`)
    t.match(JSON.parse(await next), [{ metadata: { name: `promcluster-${name}` } }])
  }
})
