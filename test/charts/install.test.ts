// The two ways to install the hook must install the same thing: charts/prometheus-cluster-controller
// rendered with default values equals metacontroller/ (kubectl apply -k), object by object. The TLS
// Secrets hold generated certificates on both sides, so for them the test compares everything but
// the certificate bytes, and checks separately that each side's certificates make a valid set.
import { execFileSync } from 'node:child_process'
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { parse, parseAllDocuments } from 'yaml'
import { CHILD_TYPES } from '../../src/core/child-types.js'
import { checkMaterial } from '../../src/tls.js'
import { HELM_BIN, ROOT } from '../helpers/env.js'

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } } & Record<string, unknown>
type Secret = Obj & { type: string; data: Record<string, string> }
type Webhook = { url: string; caBundle: { secretRef: { name: string; namespace: string; key: string } }; clientTLS: { secretRef: { name: string; namespace: string } } }
type Cc = Obj & { spec: { childResources: { resource: string; updateStrategy: { method: string } }[]; hooks: Record<string, { version: string; webhook: Webhook }> } }
type Container = { env: { name: string; value: string }[]; ports: { name: string; containerPort: number }[]; volumeMounts: { name: string; mountPath: string }[]; readinessProbe: { httpGet: { port: string } }; livenessProbe: { httpGet: { port: string } } }
type Deployment = Obj & { spec: { template: { spec: { containers: Container[]; volumes: { name: string; secret?: { secretName: string } }[] } } } }
type NetworkPolicy = Obj & { spec: { ingress: { from?: { namespaceSelector: { matchLabels: Record<string, string> }; podSelector: { matchLabels: Record<string, string> } }[]; ports: { port: string }[] }[] } }

const NAMESPACE = 'prometheus-cluster-controller'
const CLUSTER_SCOPED = new Set(['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'CompositeController'])
const SERVICE_NAMES = ['prometheus-cluster-controller', 'prometheus-cluster-controller.prometheus-cluster-controller', 'prometheus-cluster-controller.prometheus-cluster-controller.svc', 'prometheus-cluster-controller.prometheus-cluster-controller.svc.cluster.local']

const docs = (text: string) =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as Obj | null)
    .filter((d): d is Obj => d !== null)
const key = (o: Obj) => `${o.kind}/${o.metadata.name}`

function helmTemplate(chart: string, extra: string[] = []): Obj[] {
  return docs(execFileSync(HELM_BIN, ['template', 'prometheus-cluster-controller', join(ROOT, 'charts', chart), '--namespace', NAMESPACE, '--kube-version', '1.35.0', ...extra], { encoding: 'utf8' }))
}

interface Kustomization {
  namespace: string
  resources: string[]
  secretGenerator: { name: string; type: string; files: string[] }[]
  generatorOptions: { disableNameSuffixHash: boolean; labels: Record<string, string> }
}
const kustomization = parse(readFileSync(join(ROOT, 'metacontroller', 'controller', 'kustomization.yaml'), 'utf8')) as Kustomization

/** The objects `kubectl kustomize metacontroller/controller` makes; Secrets' data from `certs` (the files make install writes). */
function kustomizeResources(certs?: string): Obj[] {
  t.equal(kustomization.namespace, NAMESPACE)
  const resources = kustomization.resources.flatMap((file) =>
    docs(readFileSync(join(ROOT, 'metacontroller', 'controller', file), 'utf8')).map((o) => (CLUSTER_SCOPED.has(o.kind) ? o : { ...o, metadata: { ...o.metadata, namespace: NAMESPACE } }))
  )
  const secrets = kustomization.secretGenerator.map((g): Secret => {
    const data = Object.fromEntries(
      g.files.map((f) => {
        const [k = '', path = ''] = f.split('=')
        return [k, certs ? readFileSync(join(certs, path.replace(/^certs\//, ''))).toString('base64') : path]
      })
    )
    return { apiVersion: 'v1', kind: 'Secret', metadata: { name: g.name, namespace: NAMESPACE, labels: kustomization.generatorOptions.labels }, type: g.type, data }
  })
  return [...resources, ...secrets]
}

/** A Secret with its certificate bytes left out: what must be equal between the two paths. */
const shape = (o: Obj) => (o.kind === 'Secret' ? { ...o, data: Object.keys((o as Secret).data).sort() } : o)
const pem = (secret: Secret, k: string) => Buffer.from(secret.data[k] ?? '', 'base64').toString('utf8')

/** The checks every install's certificates must pass, whoever generated them. */
function checkCertificates(t: Test, server: Secret, client: Secret) {
  const ca = new X509Certificate(pem(server, 'ca.crt'))
  const serverCert = new X509Certificate(pem(server, 'tls.crt'))
  const clientCert = new X509Certificate(pem(client, 'tls.crt'))
  t.ok(ca.ca, 'ca.crt is a CA')
  t.ok(serverCert.verify(ca.publicKey) && serverCert.checkIssued(ca), 'the CA signed the serving certificate')
  t.ok(clientCert.verify(ca.publicKey) && clientCert.checkIssued(ca), 'the CA signed the client certificate')
  for (const name of SERVICE_NAMES) t.ok(serverCert.checkHost(name, { wildcards: false }) !== undefined, `the serving certificate names ${name}`)
  t.ok(serverCert.checkPrivateKey(createPrivateKey(pem(server, 'tls.key'))), 'the serving key')
  t.ok(clientCert.checkPrivateKey(createPrivateKey(pem(client, 'tls.key'))), 'the client key')
  t.ok(clientCert.keyUsage.includes('1.3.6.1.5.5.7.3.2'), 'the client certificate allows client auth')
  t.ok(serverCert.keyUsage.includes('1.3.6.1.5.5.7.3.1'), 'the serving certificate allows server auth')
  t.equal(checkMaterial({ cert: pem(server, 'tls.crt'), key: pem(server, 'tls.key'), ca: pem(server, 'ca.crt') }), undefined, 'the hook accepts its Secret as TLS_* files')
}

t.test('the install chart and metacontroller/ hold the same objects', async (t) => {
  const chart = new Map(helmTemplate('prometheus-cluster-controller').map((o) => [key(o), shape(o)]))
  const kustomize = new Map(kustomizeResources().filter((o) => o.kind !== 'Namespace' && o.kind !== 'CustomResourceDefinition').map((o) => [key(o), shape(o)]))
  t.same([...kustomize.keys()].sort(), [...chart.keys()].sort())
  for (const [k, object] of kustomize) t.same(object, chart.get(k), k)
})

t.test('the CRD chart renders exactly the generated CRD', async (t) => {
  const [crd] = helmTemplate('prometheus-cluster-crd')
  const [committed] = docs(readFileSync(join(ROOT, 'metacontroller', 'crd', 'crd.yaml'), 'utf8'))
  t.same(crd, committed)
})

t.test('the CompositeController declares every child type InPlace, hooks v2, and a finalize hook', async (t) => {
  const cc = kustomizeResources().find((o) => o.kind === 'CompositeController') as Cc
  t.same(cc.spec.childResources.map((c) => c.resource).sort(), CHILD_TYPES.map((c) => c.resource).sort(), 'the types the hook returns')
  for (const child of cc.spec.childResources) t.equal(child.updateStrategy.method, 'InPlace', child.resource)
  t.equal(cc.spec.hooks.sync?.version, 'v2')
  t.equal(cc.spec.hooks.finalize?.version, 'v2')
})

t.test('mutual TLS is wired end to end: hooks, Secrets, the hook container, the Service and the NetworkPolicy', async (t) => {
  const objects = kustomizeResources()
  const find = (kind: string, name = 'prometheus-cluster-controller') => objects.find((o) => o.kind === kind && o.metadata.name === name)
  const cc = find('CompositeController') as Cc
  const deployment = find('Deployment') as Deployment
  const container = deployment.spec.template.spec.containers[0] as Container
  const env = Object.fromEntries(container.env.map((e) => [e.name, e.value]))
  const port = (name: string) => container.ports.find((p) => p.name === name)?.containerPort
  const service = find('Service') as Obj & { spec: { ports: { port: number; targetPort: string }[] } }
  for (const [name, hook] of Object.entries(cc.spec.hooks)) {
    t.equal(hook.webhook.url, `https://${SERVICE_NAMES[2]}:${service.spec.ports[0]?.port}/${name}`, `${name}: https, to the Service`)
    const server = find('Secret', hook.webhook.caBundle.secretRef.name) as Secret | undefined
    const client = find('Secret', hook.webhook.clientTLS.secretRef.name) as Secret | undefined
    t.ok(server && hook.webhook.caBundle.secretRef.namespace === NAMESPACE && hook.webhook.caBundle.secretRef.key in server.data, `${name}: caBundle names a key of an installed Secret`)
    t.ok(client && hook.webhook.clientTLS.secretRef.namespace === NAMESPACE && 'tls.crt' in client.data && 'tls.key' in client.data, `${name}: clientTLS names an installed Secret`)
  }
  t.same(service.spec.ports.map((p) => p.targetPort), ['https'], 'the Service exposes the hooks only')
  t.equal(String(port('https')), env.PORT, 'the hooks listen on the https port')
  t.equal(String(port('ops')), env.OPS_PORT, 'probes and metrics on the ops port')
  t.equal(container.readinessProbe.httpGet.port, 'ops')
  t.equal(container.livenessProbe.httpGet.port, 'ops')
  const volume = deployment.spec.template.spec.volumes.find((v) => v.secret?.secretName === cc.spec.hooks.sync?.webhook.caBundle.secretRef.name)
  const mount = container.volumeMounts.find((m) => m.name === volume?.name)
  t.ok(mount, "the hook mounts the Secret whose ca.crt Metacontroller trusts")
  t.same([env.TLS_CERT_FILE, env.TLS_KEY_FILE, env.TLS_CLIENT_CA_FILE], ['tls.crt', 'tls.key', 'ca.crt'].map((k) => `${mount?.mountPath}/${k}`))
  const policy = find('NetworkPolicy') as NetworkPolicy
  t.same(policy.spec.ingress, [
    { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'metacontroller' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'metacontroller' } } }], ports: [{ port: 'https', protocol: 'TCP' }] },
    { ports: [{ port: 'ops', protocol: 'TCP' }] }
  ], 'only Metacontroller reaches the hooks; the ops port stays open to the kubelet and scrapers')
})

t.test("the chart's generated certificates make a valid set", async (t) => {
  const objects = helmTemplate('prometheus-cluster-controller')
  const secret = (name: string) => objects.find((o) => o.kind === 'Secret' && o.metadata.name === name) as Secret
  checkCertificates(t, secret('prometheus-cluster-controller-tls'), secret('prometheus-cluster-controller-client'))
})

t.test('the certificates make install writes make a valid set, and a second run keeps them', async (t) => {
  const certs = mkdtempSync(join(tmpdir(), 'pcc-certs-'))
  t.teardown(() => rmSync(certs, { recursive: true, force: true }))
  execFileSync(join(ROOT, 'scripts', 'make-certs.sh'), [certs], { stdio: 'pipe' })
  const first = readFileSync(join(certs, 'server.crt'), 'utf8')
  execFileSync(join(ROOT, 'scripts', 'make-certs.sh'), [certs], { stdio: 'pipe' })
  t.equal(readFileSync(join(certs, 'server.crt'), 'utf8'), first, 'nothing rotated')
  const objects = kustomizeResources(certs)
  const secret = (name: string) => objects.find((o) => o.kind === 'Secret' && o.metadata.name === name) as Secret
  checkCertificates(t, secret('prometheus-cluster-controller-tls'), secret('prometheus-cluster-controller-client'))
})

t.test('where cert-manager is installed, it issues the certificates into the same Secrets', async (t) => {
  const objects = helmTemplate('prometheus-cluster-controller', ['--api-versions', 'cert-manager.io/v1'])
  t.notOk(objects.some((o) => o.kind === 'Secret'), 'no generated Secrets')
  const certs = objects.filter((o) => o.kind === 'Certificate') as (Obj & { spec: { secretName: string; isCA?: boolean; dnsNames?: string[]; usages?: string[]; issuerRef: { name: string } } })[]
  const byName = (name: string) => certs.find((c) => c.spec.secretName === name)
  t.ok(byName('prometheus-cluster-controller-ca')?.spec.isCA, 'a CA')
  t.same(byName('prometheus-cluster-controller-tls')?.spec.dnsNames, SERVICE_NAMES)
  t.ok(byName('prometheus-cluster-controller-tls')?.spec.usages?.includes('server auth'))
  t.ok(byName('prometheus-cluster-controller-client')?.spec.usages?.includes('client auth'))
  t.same(new Set(certs.filter((c) => !c.spec.isCA).map((c) => c.spec.issuerRef.name)), new Set(['prometheus-cluster-controller-ca']), 'both signed by the CA Issuer')
  t.same(objects.filter((o) => o.kind === 'Issuer').map((o) => o.metadata.name).sort(), ['prometheus-cluster-controller-ca', 'prometheus-cluster-controller-selfsigned'])
  const forced = helmTemplate('prometheus-cluster-controller', ['--set', 'tls.issuer=certManager'])
  t.equal(forced.filter((o) => o.kind === 'Certificate').length, 3, 'tls.issuer=certManager forces it')
  const helmIssued = helmTemplate('prometheus-cluster-controller', ['--api-versions', 'cert-manager.io/v1', '--set', 'tls.issuer=helm'])
  t.equal(helmIssued.filter((o) => o.kind === 'Secret').length, 2, 'tls.issuer=helm generates them even so')
})
