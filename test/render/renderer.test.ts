import t from 'tap'
import { Value } from '@sinclair/typebox/value'
import { PrometheusClusterSpec } from '../../src/api/spec.js'
import { chartValues } from '../../src/core/values.js'
import type { RenderInput, RendererOptions } from '../../src/render/renderer.js'
import { CHART_PATH, standIn } from '../helpers/env.js'
import { testRenderer, type CountingObserver } from '../helpers/renderer.js'

async function renderer(over: Partial<RendererOptions> = {}, observer?: CountingObserver) {
  return testRenderer((fn) => t.teardown(fn), over, observer)
}

function input(name: string, spec: Record<string, unknown> = {}) {
  const s = Value.Default(PrometheusClusterSpec, structuredClone(spec)) as PrometheusClusterSpec
  const identity = `${name}\0ns\0${JSON.stringify(s)}`
  const build = (): RenderInput => {
    const values = chartValues(name, 'ns', s)
    return { release: name, namespace: 'ns', statefulSetName: `promcluster-${name}`, values, files: { config: values.config, rules: values.rules } }
  }
  return [identity, build] as const
}

t.test('a second render of the same input starts no process', async (t) => {
  const { r, observer } = await renderer()
  const first = await r.render(...input('a'))
  t.equal(observer.counts['started:helm'], 1)
  t.equal(observer.counts['started:promtool'], 1)
  const again = await r.render(...input('a'))
  t.equal(again, first, 'the cached children are returned')
  t.equal(observer.counts['started:helm'], 1)
  t.equal(observer.counts['cache:hit'], 1)
  t.same((JSON.parse(first) as { kind: string }[]).map((c) => c.kind), ['ServiceAccount', 'Role', 'RoleBinding', 'ConfigMap', 'Service', 'Service', 'StatefulSet'])
})

t.test('identical renders in flight share one helm process', async (t) => {
  const { r, observer } = await renderer()
  const results = await Promise.all(Array.from({ length: 8 }, () => r.render(...input('b', { replicas: 2 }))))
  t.equal(observer.counts['started:helm'], 1)
  t.equal(observer.counts['cache:shared'], 7)
  for (const result of results) t.equal(result, results[0])
  t.ok((JSON.parse(results[0] ?? '[]') as { kind: string }[]).some((c) => c.kind === 'PodDisruptionBudget'), 'replicas 2 renders a PodDisruptionBudget')
})

t.test('different specs render separately; the chart digest is part of the key', async (t) => {
  const { r, observer } = await renderer()
  await r.render(...input('c'))
  await r.render(...input('c', { replicas: 3 }))
  t.equal(observer.counts['started:helm'], 2)
  const other = await renderer({ chartDigest: 'another-chart' })
  t.not(other.r.key('x'), r.key('x'))
})

t.test('a change that leaves the configuration text as it was renders without promtool', async (t) => {
  const { r, observer } = await renderer()
  await r.render(...input('k'))
  await r.render(...input('k', { replicas: 3 }))
  await r.render(...input('k', { resources: { limits: { memory: '1Gi' } } }))
  t.equal(observer.counts['started:helm'], 3)
  t.equal(observer.counts['started:promtool'], 1)
  t.same([observer.counts['check:miss'], observer.counts['check:hit']], [1, 2])
})

t.test('a configuration promtool rejects is an InvalidConfiguration, cached like a success', async (t) => {
  const { r, observer } = await renderer()
  const bad = input('d', { config: 'global:\n  scrape_interval: banana\n' })
  await t.rejects(r.render(...bad), { code: 'InvalidConfiguration', transient: false })
  await t.rejects(r.render(...bad), { code: 'InvalidConfiguration' })
  t.equal(observer.counts['started:promtool'], 1, 'the verdict is reused')
})

t.test('a raw config that is not YAML fails before any process starts', async (t) => {
  const { r, observer } = await renderer()
  await t.rejects(r.render(...input('e', { config: 'a: [' })), { code: 'InvalidConfiguration', message: /spec\.config is not valid YAML/ })
  t.equal(observer.counts['started:helm'], undefined)
})

t.test('stand-in helm that fails: RenderFailed with its message, cached with its input like any deterministic result', async (t) => {
  const helmBin = await standIn('helm', 'echo "Error: template: boom" >&2; exit 1')
  const { r, observer } = await renderer({ helm: { helmBin, chartPath: CHART_PATH, kubeVersion: '1.35.0', timeoutMs: 5000 } })
  await t.rejects(r.render(...input('f')), { code: 'RenderFailed', transient: false, message: /exit 1.*template: boom/ })
  await t.rejects(r.render(...input('f')), { code: 'RenderFailed', transient: false })
  t.equal(observer.counts['started:helm'], 1, 'the same input is not rendered again')
  await t.rejects(r.render(...input('f', { replicas: 2 })), { code: 'RenderFailed' })
  t.equal(observer.counts['started:helm'], 2, 'another input is')
})

t.test('stand-in helm killed by a signal: RenderFailed, transient, tried again', async (t) => {
  const helmBin = await standIn('helm', 'kill -9 $$')
  const { r, observer } = await renderer({ helm: { helmBin, chartPath: CHART_PATH, kubeVersion: '1.35.0', timeoutMs: 5000 } })
  await t.rejects(r.render(...input('f2')), { code: 'RenderFailed', transient: true, message: /killed by SIGKILL/ })
  await t.rejects(r.render(...input('f2')), { code: 'RenderFailed', transient: true })
  t.equal(observer.counts['started:helm'], 2, 'a killed render is not cached')
})

t.test('stand-in promtool killed by a signal: no cached verdict, asked again', async (t) => {
  const promtoolBin = await standIn('promtool', 'kill -9 $$')
  const { r, observer } = await renderer({ promtool: { promtoolBin, timeoutMs: 5000 } })
  await t.rejects(r.render(...input('f3')), { code: 'RenderFailed', transient: true, message: /promtool was killed by SIGKILL/ })
  await t.rejects(r.render(...input('f3')), { code: 'RenderFailed', transient: true })
  t.equal(observer.counts['started:promtool'], 2, 'not judged: not cached as an invalid configuration')
})

t.test('stand-in helm whose background job holds its output open: the render ends anyway and frees its slot', async (t) => {
  const helmBin = await standIn('helm', 'sleep 30 & echo "a: [unclosed"')
  const { r, observer } = await renderer({ helm: { helmBin, chartPath: CHART_PATH, kubeVersion: '1.35.0', timeoutMs: 20_000 }, concurrency: 1 })
  const started = Date.now()
  await t.rejects(r.render(...input('f4')), { code: 'RenderFailed', message: /invalid YAML/ })
  t.ok(Date.now() - started < 5000, `answered in ${Date.now() - started} ms, not when the background job ends`)
  t.equal(observer.running, 0, 'the slot is free')
})

t.test('stand-in helm that prints something other than the children: RenderFailed', async (t) => {
  for (const [script, message] of [
    ['echo "kind: Secret\napiVersion: v1\nmetadata: {name: x}"', /Secret.*not a declared child type/],
    ['echo "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}"', /no StatefulSet named promcluster-g/],
    ['echo "a: [unclosed"', /invalid YAML/]
  ] as const) {
    const helmBin = await standIn('helm', script)
    const { r } = await renderer({ helm: { helmBin, chartPath: CHART_PATH, kubeVersion: '1.35.0', timeoutMs: 5000 } })
    await t.rejects(r.render(...input('g')), { code: 'RenderFailed', message }, script)
  }
})

t.test('stand-in helm that hangs is killed at the timeout', async (t) => {
  const helmBin = await standIn('helm', 'exec sleep 30')
  const { r, observer } = await renderer({ helm: { helmBin, chartPath: CHART_PATH, kubeVersion: '1.35.0', timeoutMs: 300 } })
  const started = Date.now()
  await t.rejects(r.render(...input('h')), { code: 'RenderTimeout', transient: true })
  t.ok(Date.now() - started < 5000, 'answered long before the hang would end')
  t.equal(observer.running, 0, 'no process left running')
})

t.test('helm missing: ToolMissing naming the path', async (t) => {
  const { r, observer } = await renderer({ helm: { helmBin: '/nonexistent/helm', chartPath: CHART_PATH, kubeVersion: '1.35.0', timeoutMs: 5000 } })
  await t.rejects(r.render(...input('i')), { code: 'ToolMissing', transient: true, message: /\/nonexistent\/helm/ })
  t.equal(observer.running, 0)
})

t.test('renders beyond the queue limit are refused as Overloaded', async (t) => {
  const helmBin = await standIn('helm', 'sleep 0.5; exit 1')
  const { r } = await renderer({ helm: { helmBin, chartPath: CHART_PATH, kubeVersion: '1.35.0', timeoutMs: 5000 }, concurrency: 1, maxQueue: 0 })
  const first = r.render(...input('j1'))
  const second = r.render(...input('j2'))
  await t.rejects(second, { name: 'BusyError', code: 'Overloaded' })
  await t.rejects(first, { code: 'RenderFailed' })
})

t.test('a render past the caller\'s deadline: Overloaded at the deadline; the render goes on and is cached', async (t) => {
  const helmBin = await standIn('helm', 'sleep 1; echo "Error: late" >&2; exit 1')
  const { r, observer } = await renderer({ helm: { helmBin, chartPath: CHART_PATH, kubeVersion: '1.35.0', timeoutMs: 5000 } })
  const started = Date.now()
  await t.rejects(r.render(...input('dl1'), Date.now() + 200), { name: 'BusyError', code: 'Overloaded', message: /deadline/ })
  t.ok(Date.now() - started < 900, `answered at the deadline (${Date.now() - started} ms), not when helm finished`)
  await t.rejects(r.render(...input('dl1')), { code: 'RenderFailed', message: /late/ })
  t.equal(observer.counts['started:helm'], 1, 'the retry joined (or found) the same render')
})

t.test('a render whose callers all gave up while it waited for a slot is never started', async (t) => {
  const helmBin = await standIn('helm', 'sleep 0.6; exit 1')
  const { r, observer } = await renderer({ helm: { helmBin, chartPath: CHART_PATH, kubeVersion: '1.35.0', timeoutMs: 5000 }, concurrency: 1 })
  const first = r.render(...input('dl2'))
  await t.rejects(r.render(...input('dl3'), Date.now() + 100), { name: 'BusyError', code: 'Overloaded' })
  await t.rejects(first, { code: 'RenderFailed' })
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(observer.counts['started:helm'], 1, 'the abandoned render did not start helm')
})
