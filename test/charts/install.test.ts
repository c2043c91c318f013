// The two ways to install the hook must install the same thing: charts/prometheus-cluster-controller
// rendered with default values equals metacontroller/ (kubectl apply -k), object by object.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { parse, parseAllDocuments } from 'yaml'
import { CHILD_TYPES } from '../../src/core/child-types.js'
import { HELM_BIN, ROOT } from '../helpers/env.js'

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } } & Record<string, unknown>
const NAMESPACE = 'prometheus-cluster-controller'
const CLUSTER_SCOPED = new Set(['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'CompositeController'])

const docs = (text: string) =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as Obj | null)
    .filter((d): d is Obj => d !== null)
const key = (o: Obj) => `${o.kind}/${o.metadata.name}`

function helmTemplate(chart: string): Obj[] {
  return docs(execFileSync(HELM_BIN, ['template', 'prometheus-cluster-controller', join(ROOT, 'charts', chart), '--namespace', NAMESPACE, '--kube-version', '1.35.0'], { encoding: 'utf8' }))
}

function kustomizeResources(): Obj[] {
  const kustomization = parse(readFileSync(join(ROOT, 'metacontroller', 'kustomization.yaml'), 'utf8')) as { namespace: string; resources: string[] }
  t.equal(kustomization.namespace, NAMESPACE)
  return kustomization.resources.flatMap((file) =>
    docs(readFileSync(join(ROOT, 'metacontroller', file), 'utf8')).map((o) => (CLUSTER_SCOPED.has(o.kind) ? o : { ...o, metadata: { ...o.metadata, namespace: NAMESPACE } }))
  )
}

t.test('the install chart and metacontroller/ hold the same objects', async (t) => {
  const chart = new Map(helmTemplate('prometheus-cluster-controller').map((o) => [key(o), o]))
  const kustomize = new Map(kustomizeResources().filter((o) => o.kind !== 'Namespace' && o.kind !== 'CustomResourceDefinition').map((o) => [key(o), o]))
  t.same([...kustomize.keys()].sort(), [...chart.keys()].sort())
  for (const [k, object] of kustomize) t.same(object, chart.get(k), k)
})

t.test('the CRD chart renders exactly the generated CRD', async (t) => {
  const [crd] = helmTemplate('prometheus-cluster-crd')
  const [committed] = docs(readFileSync(join(ROOT, 'metacontroller', 'crd.yaml'), 'utf8'))
  t.same(crd, committed)
})

t.test('the CompositeController declares every child type InPlace, hooks v2, and a finalize hook', async (t) => {
  const cc = kustomizeResources().find((o) => o.kind === 'CompositeController') as Obj & { spec: { childResources: { resource: string; updateStrategy: { method: string } }[]; hooks: Record<string, { version: string }> } }
  t.same(cc.spec.childResources.map((c) => c.resource).sort(), CHILD_TYPES.map((c) => c.resource).sort(), 'the types the hook returns')
  for (const child of cc.spec.childResources) t.equal(child.updateStrategy.method, 'InPlace', child.resource)
  t.equal(cc.spec.hooks.sync?.version, 'v2')
  t.equal(cc.spec.hooks.finalize?.version, 'v2')
})
