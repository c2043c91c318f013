// The request bodies in test/fixtures (the README's curl examples) are current, and each one is
// answered as the journey expects.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import type { FinalizeResponse } from '../../src/api/hook-request.js'
import { testApp } from '../helpers/env.js'
import { buildFixtures, FIXTURES_DIR, fixtureText } from '../helpers/fixtures.js'

t.test('every fixture is current and answered', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  for (const [file, value] of await buildFixtures(app)) {
    const committed = readFileSync(join(FIXTURES_DIR, file), 'utf8')
    t.equal(committed, fixtureText(value), `test/fixtures/${file} (npm run fixtures to regenerate)`)
    const hook = file.endsWith('-finalize.json') ? 'finalize' : 'sync'
    const res = await app.inject({ method: 'POST', url: `/${hook}`, headers: { 'content-type': 'application/json' }, payload: committed })
    t.equal(res.statusCode, 200, file)
    const json = res.json<FinalizeResponse>()
    const ready = json.status.conditions.find((c) => c.type === 'Ready')
    if (file.endsWith('-sync-observed.json')) t.equal(ready?.status, 'True', `${file}: Ready`)
    if (hook === 'finalize') t.equal(json.finalized, false, `${file}: pods still running, finalizer kept`)
  }
})
