// pcc_sync_answers_total: every 200 answer to /sync counted by the reason of the Degraded condition
// it writes, from a fixed label set (the PrometheusRule alerts on it; the hook keeps no state).
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import type { PrometheusClusterStatus } from '../../src/api/status.js'
import { DEGRADED_REASONS } from '../../src/core/status.js'
import { OTHER_REASON, createMetrics } from '../../src/plugins/metrics.js'
import { failingHelm, standIn, testApp } from '../helpers/env.js'
import { body, parentFrom } from '../helpers/requests.js'

/** The counter's series, by reason. */
async function answers(app: FastifyInstance): Promise<Record<string, number>> {
  const text = (await app.inject({ url: '/metrics' })).body
  return Object.fromEntries([...text.matchAll(/^pcc_sync_answers_total\{reason="([^"]*)"\} (\d+)$/gm)].map((m): [string, number] => [m[1] ?? '', Number(m[2])]))
}

/** Zero for every reason but those given. */
const only = (counts: Record<string, number>) => ({ ...Object.fromEntries(DEGRADED_REASONS.map((r) => [r, 0])), ...counts })

async function sync(app: FastifyInstance, payload: object, url = '/sync') {
  return (await app.inject({ method: 'POST', url, payload })).statusCode
}

t.test('every reason is exported at zero before any call, and no other', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  t.same(await answers(app), only({}))
  t.same([...DEGRADED_REASONS].sort(), ['AsExpected', 'InvalidConfiguration', 'InvalidSpec', 'RenderFailed', 'RenderTimeout', 'ToolMissing'])
})

t.test('a rendered sync counts AsExpected; an invalid spec InvalidSpec; a rejected configuration InvalidConfiguration', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  const parent = parentFrom('simple.yaml')
  t.equal(await sync(app, body(parent)), 200)
  t.equal(await sync(app, body(parent)), 200)
  t.equal(await sync(app, body({ ...parent, spec: { replicas: 'x' } })), 200)
  t.equal(await sync(app, body({ ...parent, spec: { config: 'global:\n  scrape_interval: banana\n' } })), 200)
  t.same(await answers(app), only({ AsExpected: 2, InvalidSpec: 1, InvalidConfiguration: 1 }))
})

t.test('stand-in helm failing, hanging or missing: RenderFailed, RenderTimeout, ToolMissing', async (t) => {
  for (const [reason, env] of await failingHelm()) {
    const app = await testApp(env)
    t.equal(await sync(app, body(parentFrom('simple.yaml'))), 200, reason)
    t.same(await answers(app), only({ [reason]: 1 }), reason)
    await app.close()
  }
})

t.test('a paused cluster counts AsExpected; finalize, a refused body and a 429 are not sync answers', async (t) => {
  const app = await testApp({ HELM_BIN: await standIn('helm', 'sleep 2; exit 1'), HOOK_DEADLINE_MS: '300' })
  t.teardown(() => app.close())
  const parent = parentFrom('simple.yaml')
  t.equal(await sync(app, body({ ...parent, spec: { paused: true } })), 200)
  t.equal(await sync(app, body(parent, undefined, true), '/finalize'), 200)
  t.equal(await sync(app, { parent: {} }), 422)
  t.equal(await sync(app, body(parent)), 429)
  t.same(await answers(app), only({ AsExpected: 1 }))
})

t.test('a Degraded reason the resource wrote itself is never a label: the answer\'s own reason is counted', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  const parent = parentFrom('simple.yaml')
  const written = { conditions: [{ type: 'Degraded', status: 'True', reason: 'tenant-chosen-name', message: 'x', lastTransitionTime: '2026-01-01T00:00:00Z' }] }
  t.equal(await sync(app, body({ ...parent, status: written })), 200)
  t.same(await answers(app), only({ AsExpected: 1 }))
})

t.test('a reason outside the fixed set is counted as Other, so the label set stays bounded', async (t) => {
  const metrics = createMetrics()
  const status = (reason: string) => ({ conditions: [{ type: 'Degraded', status: 'True', reason, message: '', lastTransitionTime: '' }] }) as unknown as PrometheusClusterStatus
  metrics.syncAnswered(status('SomethingNew'))
  metrics.syncAnswered(status('RenderTimeout'))
  metrics.syncAnswered({ conditions: [] } as unknown as PrometheusClusterStatus)
  const text = await metrics.registry.metrics()
  t.match(text, new RegExp(`^pcc_sync_answers_total\\{reason="${OTHER_REASON}"\\} 2$`, 'm'))
  t.match(text, /^pcc_sync_answers_total\{reason="RenderTimeout"\} 1$/m)
  t.notMatch(text, /SomethingNew/)
})
