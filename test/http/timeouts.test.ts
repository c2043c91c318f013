// Nobody can make the hook spend unbounded time: a hook call has one deadline from its arrival,
// and a client that sends its request slowly is cut off.
import { connect } from 'node:net'
import t from 'tap'
import { standIn, testApp } from '../helpers/env.js'
import { body, parentFrom } from '../helpers/requests.js'

t.test('a sync still rendering at the deadline is answered 429 with Retry-After', async (t) => {
  const app = await testApp({ HELM_BIN: await standIn('helm', 'sleep 2; exit 1'), HOOK_DEADLINE_MS: '300', RETRY_AFTER_SECONDS: '7' })
  t.teardown(() => app.close())
  const started = Date.now()
  const res = await app.inject({ method: 'POST', url: '/sync', payload: body(parentFrom('simple.yaml')) })
  t.equal(res.statusCode, 429)
  t.equal(res.headers['retry-after'], '7')
  t.match(res.json(), { code: 'Overloaded', message: /deadline/ })
  t.ok(Date.now() - started < 1500, `answered in ${Date.now() - started} ms`)
})

t.test('a client that sends its body slowly is cut off by the request timeout', async (t) => {
  const app = await testApp({ REQUEST_TIMEOUT_MS: '500' })
  t.teardown(() => app.close())
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }
  const socket = connect(port, '127.0.0.1')
  const started = Date.now()
  const closed = new Promise<string>((resolve) => {
    let answer = ''
    socket.on('data', (d: Buffer) => (answer += d.toString()))
    socket.on('close', () => resolve(answer))
    socket.on('error', () => resolve(answer))
  })
  socket.write('POST /sync HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{')
  // One byte every 200 ms: the body would take hours.
  const trickle = setInterval(() => socket.writable && socket.write(' '), 200)
  t.teardown(() => clearInterval(trickle))
  const answer = await closed
  clearInterval(trickle)
  const ms = Date.now() - started
  t.ok(ms < 4000, `connection closed after ${ms} ms`)
  t.match(answer, /^(HTTP\/1\.1 408|$)/, 'a 408 or nothing, never an answer to the half-sent request')
})
