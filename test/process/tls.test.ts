// The real server process with mutual TLS (src/server.ts, configured as the install manifests do):
// the hooks answer only clients with a certificate from the client CA, the probes and /metrics
// answer plain HTTP on their own port, and a certificate renewed the way the kubelet updates a
// Secret volume (a `..data` symlink swapped atomically) is served without a restart.
import { spawn } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { HELM_BIN, PROMTOOL_BIN, ROOT } from '../helpers/env.js'
import { issue, makeCa, tlsRequest, type KeyPair } from '../helpers/test-pki.js'

const fixture = await readFile(join(ROOT, 'test', 'fixtures', 'simple-sync.json'), 'utf8')
const dir = await mkdtemp(join(tmpdir(), 'pcc-tls-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))
const ca = await makeCa(dir, 'hook-ca')
const otherCa = await makeCa(dir, 'other-ca')
const [server, renewed, client, stranger] = await Promise.all([
  issue(dir, ca, 'server', 'server'),
  issue(dir, ca, 'server-renewed', 'server'),
  issue(dir, ca, 'metacontroller', 'client'),
  issue(dir, otherCa, 'stranger', 'client')
])

/** A Secret volume as the kubelet writes it: files are links through `..data`, swapped in one rename. */
const volume = join(dir, 'secret')
let generation = 0
async function publish(files: Record<string, string>): Promise<void> {
  const target = `..${++generation}`
  await mkdir(join(volume, target), { recursive: true })
  for (const [name, content] of Object.entries(files)) await writeFile(join(volume, target, name), content)
  await symlink(target, join(volume, '..data_tmp'))
  await rename(join(volume, '..data_tmp'), join(volume, '..data'))
}
const pem = (pair: KeyPair) => Promise.all([readFile(pair.cert, 'utf8'), readFile(pair.key, 'utf8')])
const caPem = await readFile(ca.cert, 'utf8')
const [serverCert, serverKey] = await pem(server)
await publish({ 'tls.crt': serverCert, 'tls.key': serverKey, 'ca.crt': caPem })
for (const name of ['tls.crt', 'tls.key', 'ca.crt']) await symlink(join('..data', name), join(volume, name))

const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_V8_COVERAGE' && k !== 'NODE_OPTIONS' && !k.startsWith('_TAPJS')))
const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'server.ts')], {
  env: {
    ...env, HELM_BIN, PROMTOOL_BIN, LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: '0', OPS_PORT: '0', TLS_RELOAD_INTERVAL_MS: '200',
    TLS_CERT_FILE: join(volume, 'tls.crt'), TLS_KEY_FILE: join(volume, 'tls.key'), TLS_CLIENT_CA_FILE: join(volume, 'ca.crt')
  },
  stdio: ['ignore', 'pipe', 'pipe']
})
let output = ''
child.stdout.on('data', (d: Buffer) => (output += d.toString()))
child.stderr.on('data', (d: Buffer) => (output += d.toString()))
t.teardown(() => {
  child.kill('SIGKILL')
})
const until = async (what: string, ok: () => boolean | Promise<boolean>, ms = 15_000) => {
  const deadline = Date.now() + ms
  while (!(await ok())) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${what}: not within ${ms} ms\n${output}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
await until('listening on both ports', () => /listening at https:/.test(output) && /listening at http:/.test(output))
const hooks = /listening at (https:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1] ?? ''
const ops = /listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1] ?? ''

t.test('a client without a certificate gets no answer: the handshake fails', async (t) => {
  await t.rejects(tlsRequest(`${hooks}/sync`, { ca: ca.cert, body: fixture }))
})

t.test('a client with a certificate from another CA gets no answer', async (t) => {
  await t.rejects(tlsRequest(`${hooks}/sync`, { ca: ca.cert, client: stranger, body: fixture }), { code: /ERR_SSL|ECONNRESET/ })
})

t.test("Metacontroller's certificate gets the children", async (t) => {
  const res = await tlsRequest(`${hooks}/sync`, { ca: ca.cert, client, body: fixture })
  t.equal(res.status, 200)
  t.ok((JSON.parse(res.body) as { children: unknown[] }).children.length > 0)
  t.equal(res.serial, server.serial, 'the server presents its certificate')
  t.equal((await tlsRequest(`${hooks}/healthz`, { ca: ca.cert, client })).status, 404, 'the hook port serves the hooks only')
})

t.test('probes and metrics answer plain HTTP on their own port, hooks do not', async (t) => {
  t.equal((await fetch(`${ops}/healthz`)).status, 200)
  t.equal((await fetch(`${ops}/readyz`)).status, 200)
  const metrics = await (await fetch(`${ops}/metrics`)).text()
  t.match(metrics, /pcc_hook_requests_total\{hook="sync",code="200"\} 1/, 'one registry: the hook port counted the sync')
  const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1])
  const notAfter = async (pair: KeyPair) => Date.parse(new X509Certificate(await readFile(pair.cert)).validTo) / 1000
  t.equal(gauge('pcc_tls_serving_certificate_expiry_timestamp_seconds'), await notAfter(server), 'when the served certificate expires')
  t.equal(gauge('pcc_tls_client_certificate_expiry_timestamp_seconds'), await notAfter(client), "when Metacontroller's certificate expires")
  t.equal((await fetch(`${ops}/sync`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: fixture })).status, 404)
})

t.test('a renewed certificate is served without a restart; files that do not parse are refused', async (t) => {
  const [renewedCert, renewedKey] = await pem(renewed)
  await publish({ 'tls.crt': renewedCert, 'tls.key': renewedKey, 'ca.crt': caPem })
  await until('the renewed certificate served', async () => (await tlsRequest(`${hooks}/healthz`, { ca: ca.cert, client })).serial === renewed.serial)
  t.match(output, /TLS certificate reloaded/)
  await publish({ 'tls.crt': 'not a certificate', 'tls.key': renewedKey, 'ca.crt': caPem })
  await until('the broken files refused', () => /renewed TLS files refused/.test(output))
  const res = await tlsRequest(`${hooks}/sync`, { ca: ca.cert, client, body: fixture })
  t.equal(res.status, 200)
  t.equal(res.serial, renewed.serial, 'the last good certificate is still served')
  const metrics = await (await fetch(`${ops}/metrics`)).text()
  t.match(metrics, `pcc_tls_serving_certificate_expiry_timestamp_seconds ${Date.parse(new X509Certificate(renewedCert).validTo) / 1000}`, 'the gauge follows the reload')
  t.equal(child.exitCode, null, 'no restart')
})
