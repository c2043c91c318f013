// Version honesty: the Prometheus versions a cluster may run end at the minor of the promtool that
// checks every configuration, and the status names that promtool.
import t from 'tap'
import { DEFAULT_VERSION, SUPPORTED_VERSIONS } from '../../src/api/spec.js'
import { validateSpec } from '../../src/api/validate.js'
import { promtoolLabel, promtoolVersion } from '../../src/render/promtool.js'
import { PROMTOOL_BIN, testApp } from '../helpers/env.js'
import { body, parentFrom } from '../helpers/requests.js'

t.test('the supported versions end at the real promtool\'s minor, and include the default', async (t) => {
  const label = promtoolLabel(await promtoolVersion(PROMTOOL_BIN, 10_000))
  const [, promtoolMinor] = /^promtool (\d+\.\d+)\.\d+/.exec(label) ?? []
  t.equal(`v${String(promtoolMinor)}`, SUPPORTED_VERSIONS.lastMinor, `${label} checks configurations: keep SUPPORTED_VERSIONS.lastMinor (src/api/spec.ts) in step with tools/promtool`)
  t.ok(validateSpec({ version: DEFAULT_VERSION }).ok, 'the default version is supported')
})

t.test('a version outside the range is refused, naming the field', async (t) => {
  for (const version of ['v2.55.1', 'v3.14.0', 'v4.0.0', 'v3.1', '3.13.5']) {
    const verdict = validateSpec({ version })
    t.notOk(verdict.ok, version)
    if (!verdict.ok) t.match(verdict.errors[0]?.field, 'parent.spec.version', version)
  }
  for (const version of [SUPPORTED_VERSIONS.first, 'v3.9.3', 'v3.10.0', `${SUPPORTED_VERSIONS.lastMinor}.9`]) t.ok(validateSpec({ version }).ok, version)
})

t.test('the status says which promtool judged the configuration', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'POST', url: '/sync', payload: body(parentFrom('simple.yaml')) })
  t.match(res.json(), { status: { promtool: /^promtool 3\.\d+\.\d+$/ } })
  t.equal(promtoolLabel('no version here'), 'promtool (version unknown)')
})
