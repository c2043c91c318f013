// The real server process: listens on PORT, and on SIGTERM finishes the request in flight, then exits 0.
// Run without coverage (npm run tap:process): a second process's transpiled lines would be merged
// into the coverage of src/ wrongly.
import t from 'tap'
import { request } from 'undici'
import { HELM_BIN, PROMTOOL_BIN, standIn } from '../helpers/env.js'
import { startHookProcess as start } from '../../harness/hook-process.js'
import { body, parentFrom } from '../helpers/requests.js'

t.test('SIGTERM lets the sync in flight finish, then the server exits 0', async (t) => {
  // A helm that takes a second, so the request is still in flight when SIGTERM arrives.
  const slowHelm = await standIn('helm', `sleep 1; exec ${HELM_BIN} "$@"`)
  const server = start({ HELM_BIN: slowHelm, PROMTOOL_BIN })
  t.teardown(() => server.child.kill('SIGKILL'))
  const url = await server.listening
  const inFlight = request(`${url}/sync`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body(parentFrom('simple.yaml'))) })
  await new Promise((r) => setTimeout(r, 300))
  server.child.kill('SIGTERM')
  const res = await inFlight
  t.equal(res.statusCode, 200)
  t.equal(res.headers.connection, 'close', 'the client is told not to reuse the connection')
  const json = (await res.body.json()) as { children: unknown[] }
  t.ok(json.children.length > 0, 'the response is complete')
  const sigterm = Date.now()
  t.equal(await server.exited, 0)
  t.ok(Date.now() - sigterm < 10_000, 'exits promptly, not after the keep-alive timeout')
  t.match(server.output(), /shutting down/)
})

t.test('a bad configuration stops the server at start with every problem named', async (t) => {
  const server = start({ PORT: 'eighty', RENDER_TIMEOUT_MS: '60000' })
  t.equal(await server.exited, 2)
  t.match(server.output(), /PORT="eighty": must be a whole number/)
  t.match(server.output(), /RENDER_TIMEOUT_MS="60000": must be a whole number from 100 to 9500/)
  await t.rejects(server.listening)
})
