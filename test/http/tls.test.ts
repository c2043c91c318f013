// Mutual TLS in-process: the configuration checks of src/tls.ts (each problem names its variable),
// the plain-HTTP loopback rule, the HTTPS app refusing clients without the CA's certificate, the
// split of hook and ops routes, and the reload of renewed files. The real server process, with a
// kubelet-style Secret volume, is tested in test/process/tls.test.ts.
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { ConfigError, loadConfig } from '../../src/config.js'
import { X509Certificate } from 'node:crypto'
import { Registry } from 'prom-client'
import { httpsOptions, isLoopback, loadTlsConfig, readMaterial, tlsMetrics, watchTlsFiles, type TlsConfig } from '../../src/tls.js'
import { HELM_BIN, PROMTOOL_BIN, ROOT, testConfig } from '../helpers/env.js'
import { issue, makeCa, tlsRequest } from '../helpers/test-pki.js'

const dir = await mkdtemp(join(tmpdir(), 'pcc-tls-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))
const ca = await makeCa(dir, 'ca')
const otherCa = await makeCa(dir, 'other-ca')
const [server, renewed, client, stranger] = await Promise.all([issue(dir, ca, 'server', 'server'), issue(dir, ca, 'renewed', 'server'), issue(dir, ca, 'client', 'client'), issue(dir, otherCa, 'stranger', 'client')])
const files = { TLS_CERT_FILE: server.cert, TLS_KEY_FILE: server.key, TLS_CLIENT_CA_FILE: ca.cert }

const problemsOf = (env: Record<string, string>) => {
  const problems: string[] = []
  const tls = loadTlsConfig(env, problems)
  return { tls, problems }
}

t.test('TLS configuration: all three files or none, each problem naming its variable', async (t) => {
  t.same(problemsOf({}), { tls: undefined, problems: [] })
  t.match(problemsOf(files).tls, { certFile: server.cert, keyFile: server.key, clientCaFile: ca.cert, reloadIntervalMs: 10_000 })
  t.match(problemsOf({ TLS_CERT_FILE: server.cert }).problems, [/^TLS_KEY_FILE, TLS_CLIENT_CA_FILE: must be set with TLS_CERT_FILE/])
  t.match(problemsOf({ ...files, TLS_KEY_FILE: join(dir, 'missing.key') }).problems, [/^TLS_KEY_FILE=".*missing\.key": cannot be read \(ENOENT\)/])
  t.match(problemsOf({ ...files, TLS_KEY_FILE: client.key }).problems, [/^TLS_KEY_FILE=.*is not the private key of the certificate/])
  t.match(problemsOf({ ...files, TLS_CLIENT_CA_FILE: client.cert }).problems, [/^TLS_CLIENT_CA_FILE=.*holds no CA certificate/])
  t.match(problemsOf({ ...files, TLS_CERT_FILE: server.key }).problems, [/^TLS_CERT_FILE=.*holds no PEM certificate/])
  const broken = join(dir, 'broken.crt')
  await writeFile(broken, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')
  t.match(problemsOf({ ...files, TLS_CERT_FILE: broken }).problems, [/^TLS_CERT_FILE=.*does not parse/])
  t.match(problemsOf({ ...files, TLS_CLIENT_CA_FILE: broken }).problems, [/^TLS_CLIENT_CA_FILE=.*does not parse/])
  t.match(problemsOf({ ...files, TLS_CLIENT_CA_FILE: server.key }).problems, [/^TLS_CLIENT_CA_FILE=.*holds no PEM certificate/])
  t.match(problemsOf({ TLS_RELOAD_INTERVAL_MS: '5' }).problems, [/^TLS_RELOAD_INTERVAL_MS="5": must be a whole number from 100/])
  t.equal(problemsOf({ ...files, TLS_RELOAD_INTERVAL_MS: '250' }).tls?.reloadIntervalMs, 250)
})

t.test('plain HTTP listens on loopback only unless PLAIN_HTTP_ANY_ADDRESS=true; TLS adds the ops port', async (t) => {
  const base = { HELM_BIN, PROMTOOL_BIN }
  t.match(loadConfig(base), { host: '127.0.0.1', tls: undefined, opsPort: undefined })
  t.throws(() => loadConfig({ ...base, HOST: '0.0.0.0' }), new ConfigError([]), 'a ConfigError')
  t.throws(() => loadConfig({ ...base, HOST: '0.0.0.0' }), { message: /HOST="0\.0\.0\.0": plain HTTP .* is served on a loopback address only/ })
  t.match(loadConfig({ ...base, HOST: '0.0.0.0', PLAIN_HTTP_ANY_ADDRESS: 'true' }), { host: '0.0.0.0' })
  t.match(loadConfig({ ...base, HOST: '::1' }), { host: '::1' })
  t.match(loadConfig({ ...base, OPS_PORT: '9000' }), { opsPort: 9000 })
  t.match(loadConfig({ ...base, ...files }), { host: '0.0.0.0', port: 8080, opsPort: 8081, tls: { certFile: server.cert } })
  t.throws(() => loadConfig({ ...base, ...files, PORT: '8081' }), { message: /OPS_PORT=8081: must differ from PORT/ })
  t.ok(isLoopback('127.0.0.53') && isLoopback('localhost') && !isLoopback('10.0.0.1') && !isLoopback('::'))
})

t.test('the HTTPS hook app answers only clients with a certificate from the client CA', async (t) => {
  const config = testConfig(files)
  const hooks = await buildApp({ config, logger: false, parts: ['hooks'], https: httpsOptions(await readMaterial(config.tls as TlsConfig)) })
  t.teardown(() => hooks.close())
  const url = await hooks.listen({ host: '127.0.0.1', port: 0 })
  const body = await readFile(join(ROOT, 'test', 'fixtures', 'simple-sync.json'), 'utf8')
  await t.rejects(tlsRequest(`${url}/sync`, { ca: ca.cert, body }), 'no client certificate')
  await t.rejects(tlsRequest(`${url}/sync`, { ca: ca.cert, client: stranger, body }), 'a certificate from another CA')
  const res = await tlsRequest(`${url}/sync`, { ca: ca.cert, client, body })
  t.equal(res.status, 200)
  t.equal(res.serial, server.serial)
  t.equal((await tlsRequest(`${url}/metrics`, { ca: ca.cert, client })).status, 404, 'no ops routes on the hook app')
})

t.test('the ops app serves probes and metrics, not the hooks', async (t) => {
  const ops = await buildApp({ config: testConfig(), logger: false, parts: ['ops'] })
  t.teardown(() => ops.close())
  t.equal((await ops.inject({ url: '/healthz' })).statusCode, 200)
  t.equal((await ops.inject({ url: '/metrics' })).statusCode, 200)
  t.equal((await ops.inject({ method: 'POST', url: '/sync', payload: {} })).statusCode, 404)
})

t.test('renewed files are applied once; files that do not parse or cannot be read are refused', async (t) => {
  const live = { certFile: join(dir, 'live.crt'), keyFile: join(dir, 'live.key'), clientCaFile: join(dir, 'live-ca.crt'), reloadIntervalMs: 100 }
  const copy = async (pair: { cert: string; key: string }) => {
    await writeFile(live.keyFile, await readFile(pair.key))
    await writeFile(live.certFile, await readFile(pair.cert))
  }
  await writeFile(live.clientCaFile, await readFile(ca.cert))
  await copy(server)
  const applied: string[] = []
  const logs: { level: string; msg: string }[] = []
  const log = { info: (_: object, msg: string) => logs.push({ level: 'info', msg }), warn: (_: object, msg: string) => logs.push({ level: 'warn', msg }) }
  const stop = watchTlsFiles(live, await readMaterial(live), (m) => applied.push(m.cert), log)
  t.teardown(stop)
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms))
  await wait(350)
  t.same(applied, [], 'unchanged files are not applied again')
  await copy(renewed)
  await wait(350)
  t.same(applied, [await readFile(renewed.cert, 'utf8')], 'applied once')
  t.ok(logs.some((l) => l.level === 'info' && l.msg === 'TLS certificate reloaded'))
  const before = logs.length
  // Replaced in one rename, as the kubelet swaps a Secret volume: writeFile truncates first, and a
  // tick that read the empty file would rightly refuse it too, before the garbage.
  await writeFile(`${live.certFile}.tmp`, 'garbage')
  await rename(`${live.certFile}.tmp`, live.certFile)
  await wait(350)
  t.equal(applied.length, 1, 'not applied')
  t.same(logs.slice(before), [{ level: 'warn', msg: 'renewed TLS files refused: still serving the previous certificate' }], 'refused once, not at every tick')
  await rm(live.certFile)
  await wait(150)
  t.match(logs.at(-1), { level: 'warn', msg: /cannot read the TLS files/ })
})

t.test('expiry gauges of the served and the latest client certificate', async (t) => {
  const registry = new Registry()
  const metrics = tlsMetrics(registry)
  const serverCert = await readFile(server.cert, 'utf8')
  metrics.serving(serverCert)
  metrics.client(new X509Certificate(await readFile(client.cert)).validTo)
  metrics.client('not a date')
  const text = await registry.metrics()
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1])
  t.equal(value('pcc_tls_serving_certificate_expiry_timestamp_seconds'), Date.parse(new X509Certificate(serverCert).validTo) / 1000)
  t.equal(value('pcc_tls_client_certificate_expiry_timestamp_seconds'), Date.parse(new X509Certificate(await readFile(client.cert)).validTo) / 1000, 'an unparsable date is ignored')
})
