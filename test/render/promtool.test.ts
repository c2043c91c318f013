import t from 'tap'
import { checkPrometheusFiles } from '../../src/render/promtool.js'
import { PROMTOOL_BIN } from '../helpers/env.js'

t.test('a check that fails at once leaves no rejection unhandled while the other file is still being written', async (t) => {
  const unhandled: unknown[] = []
  const record = (reason: unknown) => unhandled.push(reason)
  process.on('unhandledRejection', record)
  t.teardown(() => process.off('unhandledRejection', record))
  // A missing promtool fails on the next turn of the event loop; a large rules file takes longer
  // than that to write.
  const files = { config: 'global: {}\n', rules: `groups: []\n${'# padding\n'.repeat(2_000_000)}` }
  await t.rejects(checkPrometheusFiles(files, { promtoolBin: '/nonexistent/promtool', timeoutMs: 5000 }), { code: 'ToolMissing' })
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.same(unhandled, [], 'no unhandled rejection')
})

t.test('the real promtool accepts a valid configuration and rules, and names what it rejects', async (t) => {
  const options = { promtoolBin: PROMTOOL_BIN, timeoutMs: 8000 }
  await checkPrometheusFiles({ config: 'global:\n  scrape_interval: 15s\n', rules: 'groups:\n  - name: g\n    rules:\n      - record: a\n        expr: up\n' }, options)
  await t.rejects(checkPrometheusFiles({ config: 'global:\n  scrape_interval: banana\n', rules: '' }, options), { code: 'InvalidConfiguration', message: /promtool rejected the configuration/ })
  await t.rejects(checkPrometheusFiles({ config: 'global: {}\n', rules: 'groups:\n  - name: g\n    rules:\n      - record: a\n        expr: "up("\n' }, options), { code: 'InvalidConfiguration', message: /promtool rejected the rules/ })
})
