// Golden files of the children each example renders (real helm), each rendered configuration
// checked by real promtool. Regenerate after an intended change: UPDATE_GOLDEN=1 npm run tap -- test/golden
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { stringify } from 'yaml'
import type { KubeObject, SyncResponse } from '../../src/api/hook-request.js'
import { checkPrometheusFiles } from '../../src/render/promtool.js'
import { PROMTOOL_BIN, ROOT, testApp } from '../helpers/env.js'
import { body, parentFrom } from '../helpers/requests.js'

const examples = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.yaml')).sort()

t.test('there is an example for each part of the journey', async (t) => {
  for (const name of ['simple.yaml', 'scaled.yaml', 'custom-config.yaml', 'storage.yaml', 'rules.yaml']) t.ok(examples.includes(name), name)
  t.equal(readFileSync(join(ROOT, 'examples', 'simple.yaml'), 'utf8').replace(/^#.*\n/gm, '').trim(), 'apiVersion: relaxdiego.com/v1alpha1\nkind: PrometheusCluster\nmetadata:\n  name: simple-prometheus-instance\nspec: {}')
})

for (const example of examples) {
  t.test(`${example}: rendered children match the golden file and promtool accepts the configuration`, async (t) => {
    const app = await testApp()
    t.teardown(() => app.close())
    const res = await app.inject({ method: 'POST', url: '/sync', payload: body(parentFrom(example)) })
    t.equal(res.statusCode, 200)
    const { children, status } = res.json<SyncResponse>()
    t.match(status.conditions, [{}, {}, { type: 'Degraded', status: 'False' }])
    const text = children.map((c) => `---\n${stringify(c, { lineWidth: 0 })}`).join('')
    const golden = join(ROOT, 'test', 'golden', example)
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, text)
    t.equal(text, readFileSync(golden, 'utf8'), `test/golden/${example} (UPDATE_GOLDEN=1 to regenerate)`)
    const cm = children.find((c) => c.kind === 'ConfigMap') as (KubeObject & { data: Record<string, string> }) | undefined
    await checkPrometheusFiles({ config: cm?.data['prometheus.yml'] ?? '', rules: cm?.data['rules.yaml'] ?? '' }, { promtoolBin: PROMTOOL_BIN, timeoutMs: 10_000 })
  })
}
