// A stand-in for Metacontroller v4.17, used by the e2e harness only because the real one cannot be
// built here: the Go module proxy answers 403 for github.com/metacontroller/metacontroller (see
// tools/e2e/metacontroller/go.mod). Given METACONTROLLER_BIN, the harness runs the real one instead
// and the suite is unchanged.
//
// It implements the part of the CompositeController contract the product relies on, as the real
// one does (pkg/controller/composite, pkg/controller/common in Metacontroller's source):
// - parents of each CompositeController are synced when they or their children change (here: a
//   poll every POLL_MS comparing resourceVersions, instead of watches), every resyncPeriodSeconds,
//   and after resyncAfterSeconds;
// - hook v2 bodies: children keyed `Kind.version` / `Kind.group/version`, then `namespace/name`;
//   responses decoded strictly (unknown fields are an error);
// - any non-200 answer: no child and no status is touched, retried with exponential backoff; a 429
//   is retried after its Retry-After;
// - generateSelector: children carry controller-uid=<parent uid> and a controller ownerReference;
//   an observed child missing from the response is deleted (Background propagation);
// - children are applied InPlace (here with server-side apply) and remember what was applied in
//   metacontroller.k8s.io/last-applied-configuration;
// - status replaces .status with observedGeneration added, written only when it changes;
// - a finalize hook adds the finalizer metacontroller.io/compositecontroller-<name>; a deleted
//   parent is sent to finalize (finalizing: true) until it answers finalized: true, which removes
//   the finalizer.
// Not implemented: related resources, customize hooks, other update strategies, adoption of
// orphans, DecoratorControllers.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { Agent, request } from 'undici'

type Obj = {
  apiVersion: string
  kind: string
  metadata: {
    name: string
    namespace?: string
    uid: string
    resourceVersion: string
    generation?: number
    labels?: Record<string, string>
    annotations?: Record<string, string>
    finalizers?: string[]
    deletionTimestamp?: string
    ownerReferences?: { uid: string; controller?: boolean }[]
  }
  status?: unknown
} & Record<string, unknown>

interface ChildResource {
  apiVersion: string
  resource: string
}
interface Hook {
  version?: string
  webhook: { url: string; timeout?: string }
}
interface CompositeController extends Obj {
  spec: {
    parentResource: ChildResource
    childResources?: ChildResource[]
    generateSelector?: boolean
    resyncPeriodSeconds?: number
    hooks: { sync?: Hook; finalize?: Hook }
  }
}

const LAST_APPLIED = 'metacontroller.k8s.io/last-applied-configuration'
const POLL_MS = 500
const WORKERS = 10
const RESPONSE_FIELDS = new Set(['status', 'children', 'resyncAfterSeconds', 'finalized'])

function flag(name: string): string | undefined {
  const prefix = `--${name}=`
  return process.argv.find((a) => a.startsWith(prefix))?.slice(prefix.length)
}

// --- the API server, through the admin kubeconfig --------------------------------------------
const kubeconfig = JSON.parse(readFileSync(process.env.KUBECONFIG ?? '', 'utf8')) as {
  clusters: { cluster: { server: string; 'certificate-authority-data': string } }[]
  users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[]
}
const server = kubeconfig.clusters[0]?.cluster.server ?? ''
const b64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64')
const agent = new Agent({
  connections: 32,
  connect: { ca: b64(kubeconfig.clusters[0]?.cluster['certificate-authority-data']), cert: b64(kubeconfig.users[0]?.user['client-certificate-data']), key: b64(kubeconfig.users[0]?.user['client-key-data']) }
})

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message)
  }
}

async function api<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
  const res = await request(`${server}${path}`, {
    method,
    dispatcher: agent,
    headers: body === undefined ? {} : { 'content-type': contentType },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  const text = await res.body.text()
  if (res.statusCode >= 300) throw new ApiError(res.statusCode, `${method} ${path}: ${res.statusCode} ${text.slice(0, 500)}`)
  return JSON.parse(text) as T
}

const groupPath = (apiVersion: string) => (apiVersion === 'v1' ? '/api/v1' : `/apis/${apiVersion}`)
const kinds = new Map<string, { kind: string; namespaced: boolean }>()

async function resourceInfo(r: ChildResource): Promise<{ kind: string; namespaced: boolean }> {
  const key = `${r.apiVersion}/${r.resource}`
  let info = kinds.get(key)
  if (!info) {
    const list = await api<{ resources: { name: string; kind: string; namespaced: boolean }[] }>('GET', groupPath(r.apiVersion))
    const found = list.resources.find((x) => x.name === r.resource)
    if (!found) throw new Error(`no resource ${key}`)
    info = { kind: found.kind, namespaced: found.namespaced }
    kinds.set(key, info)
  }
  return info
}

function objectPath(r: ChildResource, namespace: string | undefined, name?: string, sub?: string): string {
  return `${groupPath(r.apiVersion)}${namespace ? `/namespaces/${namespace}` : ''}/${r.resource}${name ? `/${name}` : ''}${sub ? `/${sub}` : ''}`
}

/** JSON with sorted keys: the API server does not keep the key order it was given. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`
  }
  return JSON.stringify(value)
}

// --- one parent -----------------------------------------------------------------------------
interface ParentState {
  fingerprint: string
  nextResync: number
  notBefore: number
  failures: number
}
const states = new Map<string, ParentState>()

function log(message: string): void {
  process.stdout.write(`${new Date().toISOString()} ${message}\n`)
}

function durationMs(text: string | undefined): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text ?? '')
  if (!m) return 10_000
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000)
}

async function callHook(hook: Hook, body: unknown): Promise<Record<string, unknown>> {
  const res = await request(hook.webhook.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    headersTimeout: durationMs(hook.webhook.timeout),
    bodyTimeout: durationMs(hook.webhook.timeout)
  })
  const text = await res.body.text()
  if (res.statusCode === 429) {
    const after = Number(res.headers['retry-after'] ?? 0)
    throw Object.assign(new Error(`hook answered 429`), { retryAfterMs: (Number.isFinite(after) ? after : 0) * 1000 })
  }
  if (res.statusCode !== 200) throw new Error(`unsupported status code: ${res.statusCode} body: ${text.slice(0, 300)}`)
  const parsed = JSON.parse(text) as Record<string, unknown>
  if ((hook.version ?? 'v1') === 'v2') {
    const unknown = Object.keys(parsed).filter((k) => !RESPONSE_FIELDS.has(k))
    if (unknown.length > 0) throw new Error(`strict decoding: unknown field(s) ${unknown.join(', ')}`)
  }
  return parsed
}

async function syncParent(cc: CompositeController, parentType: ChildResource, parent: Obj, children: Map<string, { r: ChildResource; kind: string; objects: Obj[] }>): Promise<number | undefined> {
  const ns = parent.metadata.namespace
  const finalizer = `metacontroller.io/compositecontroller-${cc.metadata.name}`
  const finalizeHook = cc.spec.hooks.finalize
  const deleting = parent.metadata.deletionTimestamp !== undefined
  const hasFinalizer = parent.metadata.finalizers?.includes(finalizer) ?? false
  if (deleting && (!finalizeHook || !hasFinalizer)) return undefined
  if (!deleting && finalizeHook && !hasFinalizer) {
    await api('PATCH', objectPath(parentType, ns, parent.metadata.name), { metadata: { finalizers: [...(parent.metadata.finalizers ?? []), finalizer], resourceVersion: parent.metadata.resourceVersion } }, 'application/merge-patch+json')
    return 0 // the parent changed: sync again with the new object
  }
  const hook = deleting ? finalizeHook : cc.spec.hooks.sync
  if (!hook) return undefined
  const observed: Record<string, Record<string, Obj>> = {}
  for (const [key, group] of children) {
    observed[key] = Object.fromEntries(group.objects.map((o) => [`${o.metadata.namespace ?? ''}/${o.metadata.name}`.replace(/^\//, ''), o]))
  }
  const answer = await callHook(hook, { controller: cc, parent, children: observed, related: {}, finalizing: deleting })
  const desired = (answer.children ?? []) as Obj[]

  if (!(deleting && answer.finalized === true)) {
    const keep = new Set<string>()
    for (const child of desired) {
      const group = [...children.values()].find((g) => g.kind === child.kind && g.r.apiVersion === child.apiVersion)
      if (!group) throw new Error(`the hook returned ${child.apiVersion}/${child.kind}, which is not a declared child type`)
      const info = await resourceInfo(group.r)
      const applied: Obj = {
        ...child,
        metadata: {
          ...child.metadata,
          ...(info.namespaced ? { namespace: child.metadata.namespace ?? ns } : {}),
          labels: { ...child.metadata.labels, ...(cc.spec.generateSelector ? { 'controller-uid': parent.metadata.uid } : {}) }
        }
      }
      keep.add(`${child.kind}/${applied.metadata.namespace ?? ''}/${child.metadata.name}`)
      const current = group.objects.find((o) => o.metadata.name === child.metadata.name && o.metadata.namespace === applied.metadata.namespace)
      const lastApplied = current?.metadata.annotations?.[LAST_APPLIED]
      if (current && lastApplied !== undefined && canonical(JSON.parse(lastApplied)) === canonical(applied)) continue
      const patch = {
        ...applied,
        metadata: {
          ...applied.metadata,
          annotations: { ...applied.metadata.annotations, [LAST_APPLIED]: JSON.stringify(applied) },
          ownerReferences: [{ apiVersion: parent.apiVersion, kind: parent.kind, name: parent.metadata.name, uid: parent.metadata.uid, controller: true, blockOwnerDeletion: true }]
        }
      }
      await api('PATCH', `${objectPath(group.r, applied.metadata.namespace, child.metadata.name)}?fieldManager=metacontroller&force=true`, patch, 'application/apply-patch+yaml')
      log(`${current ? 'updated' : 'created'} ${child.kind} ${applied.metadata.namespace ?? ''}/${child.metadata.name} for ${ns ?? ''}/${parent.metadata.name}`)
    }
    for (const group of children.values()) {
      for (const o of group.objects) {
        if (o.metadata.deletionTimestamp !== undefined || keep.has(`${group.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`)) continue
        await api('DELETE', objectPath(group.r, o.metadata.namespace, o.metadata.name), { propagationPolicy: 'Background', preconditions: { uid: o.metadata.uid } })
        log(`deleted ${group.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name} of ${ns ?? ''}/${parent.metadata.name}`)
      }
    }
  }

  const status = { ...((answer.status ?? {}) as Record<string, unknown>), observedGeneration: parent.metadata.generation ?? 0 }
  if (canonical(status) !== canonical(parent.status ?? {})) {
    await api('PUT', objectPath(parentType, ns, parent.metadata.name, 'status'), { ...parent, status })
  }
  if (deleting && answer.finalized === true) {
    const fresh = await api<Obj>('GET', objectPath(parentType, ns, parent.metadata.name))
    await api('PATCH', objectPath(parentType, ns, parent.metadata.name), { metadata: { finalizers: (fresh.metadata.finalizers ?? []).filter((f) => f !== finalizer), resourceVersion: fresh.metadata.resourceVersion } }, 'application/merge-patch+json')
    log(`finalized ${ns ?? ''}/${parent.metadata.name}`)
  }
  const after = answer.resyncAfterSeconds
  return typeof after === 'number' && after > 0 ? after * 1000 : undefined
}

// --- the loop --------------------------------------------------------------------------------
async function pool<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: Math.min(WORKERS, items.length) }, async () => {
    while (next < items.length) await work(items[next++] as T)
  }))
}

async function reconcileController(cc: CompositeController): Promise<void> {
  const parentType = cc.spec.parentResource
  const parentInfo = await resourceInfo(parentType)
  const parents = (await api<{ items: Obj[] }>('GET', objectPath(parentType, undefined))).items.map((p) => ({ ...p, apiVersion: parentType.apiVersion, kind: parentInfo.kind }))
  type Group = { r: ChildResource; kind: string; objects: Obj[] }
  const children = new Map<string, Group>()
  const byParent = new Map<string, Map<string, Group>>()
  for (const r of cc.spec.childResources ?? []) {
    const info = await resourceInfo(r)
    const key = `${info.kind}.${r.apiVersion}`
    children.set(key, { r, kind: info.kind, objects: [] })
    const list = (await api<{ items: Obj[] }>('GET', `${objectPath(r, undefined)}?labelSelector=controller-uid`)).items
    for (const o of list) {
      // A list's items carry no apiVersion and kind; Metacontroller's informers fill them in.
      o.apiVersion = r.apiVersion
      o.kind = info.kind
      const owner = o.metadata.ownerReferences?.find((ref) => ref.controller === true)?.uid
      if (!owner) continue
      let mine = byParent.get(owner)
      if (!mine) byParent.set(owner, (mine = new Map<string, Group>()))
      let group = mine.get(key)
      if (!group) mine.set(key, (group = { r, kind: info.kind, objects: [] }))
      group.objects.push(o)
    }
  }
  const now = Date.now()
  const resyncMs = (cc.spec.resyncPeriodSeconds ?? 0) * 1000
  await pool(parents, async (parent) => {
    const id = parent.metadata.uid
    const mine = new Map([...children].map(([k, g]) => [k, { ...g, objects: byParent.get(id)?.get(k)?.objects ?? [] }]))
    const fingerprint = [parent.metadata.resourceVersion, ...[...mine.values()].flatMap((g) => g.objects.map((o) => o.metadata.resourceVersion)).sort()].join(',')
    const state = states.get(id) ?? { fingerprint: '', nextResync: 0, notBefore: 0, failures: 0 }
    states.set(id, state)
    if (now < state.notBefore) return
    if (state.fingerprint === fingerprint && (state.nextResync === 0 || now < state.nextResync)) return
    try {
      const resyncAfter = await syncParent(cc, parentType, parent, mine)
      state.fingerprint = resyncAfter === 0 ? '' : fingerprint
      state.failures = 0
      const next = [resyncAfter, resyncMs || undefined].filter((v): v is number => typeof v === 'number' && v > 0)
      state.nextResync = next.length > 0 ? now + Math.min(...next) : 0
    } catch (error) {
      state.failures++
      const retryAfter = (error as { retryAfterMs?: number }).retryAfterMs
      state.notBefore = now + (retryAfter ?? Math.min(30_000, 500 * 2 ** Math.min(state.failures, 6)))
      state.fingerprint = ''
      log(`sync of ${parent.metadata.namespace ?? ''}/${parent.metadata.name} failed (retry in ${state.notBefore - now} ms): ${error instanceof Error ? error.message : String(error)}`)
    }
  })
}

async function loop(): Promise<void> {
  for (;;) {
    try {
      const ccs = (await api<{ items: CompositeController[] }>('GET', '/apis/metacontroller.k8s.io/v1alpha1/compositecontrollers')).items
      for (const cc of ccs) await reconcileController(cc)
    } catch (error) {
      log(`loop: ${error instanceof Error ? error.message : String(error)}`)
    }
    await new Promise((r) => setTimeout(r, POLL_MS))
  }
}

const health = flag('health-probe-bind-address') ?? '127.0.0.1:8081'
const [host, port] = [health.slice(0, health.lastIndexOf(':')), Number(health.slice(health.lastIndexOf(':') + 1))]
createServer((_req, res) => res.end('ok')).listen(port, host, () => log(`metacontroller stand-in: health on ${health}, API ${server}`))
process.on('SIGTERM', () => process.exit(0))
void loop()
