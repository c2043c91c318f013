// The real server process: listens on PORT, and on SIGTERM finishes the request in flight, then exits 0.
// Run without coverage (npm run tap:process): a second process's transpiled lines would be merged
// into the coverage of src/ wrongly.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import t from 'tap'
import { request } from 'undici'
import { HELM_BIN, PROMTOOL_BIN, ROOT, standIn } from '../helpers/env.js'
import { body, parentFrom } from '../helpers/requests.js'

function withoutCoverage(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => k !== 'NODE_V8_COVERAGE' && k !== 'NODE_OPTIONS' && !k.startsWith('_TAPJS')))
}

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'server.ts')], {
    // Not part of the coverage report: tsx's transpiled lines would be merged into src/ wrongly.
    env: { ...withoutCoverage(process.env), HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr.on('data', (d: Buffer) => (output += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const listening = new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (match?.[1]) {
        clearInterval(timer)
        resolve(match[1])
      }
    }, 50)
    void exited.then(() => {
      clearInterval(timer)
      reject(new Error(`server exited before listening:\n${output}`))
    })
  })
  return { child, listening, exited, output: () => output }
}

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
