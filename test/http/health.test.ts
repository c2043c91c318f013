import t from 'tap'
import { testApp } from '../helpers/env.js'

t.test('healthz answers; readyz is ready when helm and promtool run', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200)
  const ready = await app.inject({ url: '/readyz' })
  t.equal(ready.statusCode, 200)
  t.match(ready.json(), { status: 'ready', checks: { helm: /v3\./, promtool: /3\./ } })
})

t.test('readyz is 503 and says why while helm cannot run', async (t) => {
  const app = await testApp({ HELM_BIN: '/nonexistent/helm' })
  t.teardown(() => app.close())
  const res = await app.inject({ url: '/readyz' })
  t.equal(res.statusCode, 503)
  t.match(res.json(), { status: 'not ready', checks: { helm: /unavailable.*\/nonexistent\/helm/ } })
})

t.test('metrics are in the Prometheus exposition format and count hook calls by code', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  await app.inject({ method: 'POST', url: '/sync', payload: { parent: {} } })
  const res = await app.inject({ url: '/metrics' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /text\/plain; version=0\.0\.4/)
  for (const name of ['pcc_hook_requests_total', 'pcc_hook_request_duration_seconds', 'pcc_render_duration_seconds', 'pcc_render_cache_lookups_total', 'pcc_config_check_cache_lookups_total', 'pcc_subprocesses_running', 'pcc_subprocesses_started_total', 'pcc_render_cache_entries']) {
    t.match(res.body, new RegExp(`# TYPE ${name} `), name)
  }
  t.match(res.body, /pcc_hook_requests_total\{hook="sync",code="422"\} 1/)
})

t.test('/metrics: the hook\'s own metrics prefixed pcc_, the process and Node.js ones under their standard names', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  const text = (await app.inject({ url: '/metrics' })).body
  for (const name of ['process_resident_memory_bytes', 'process_cpu_seconds_total', 'nodejs_heap_size_used_bytes', 'pcc_hook_requests_total', 'pcc_render_duration_seconds']) {
    t.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name)
  }
  t.notMatch(text, /^# TYPE pcc_(process|nodejs)_/m, 'no prefix on the standard ones')
})
