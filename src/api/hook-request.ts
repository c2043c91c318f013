// The body Metacontroller (v4.17) POSTs to the sync and finalize hooks, and the response it accepts.
// Children are keyed `Kind.version` (core) or `Kind.group/version`, then by `name` (hook v1) or
// `namespace/name` (hook v2); both keyings are accepted.
import { Type, type Static } from '@sinclair/typebox'
import { AnyKey } from './kube-types.js'
import { API_VERSION, ClusterName, KIND, NAME_PATTERN } from './resource.js'
import type { PrometheusClusterStatus } from './status.js'

const StringRecord = Type.Record(AnyKey, Type.String())

export const ObjectMeta = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 253 }),
    namespace: Type.Optional(Type.String({ maxLength: 63 })),
    uid: Type.Optional(Type.String()),
    generation: Type.Optional(Type.Integer({ minimum: 0 })),
    labels: Type.Optional(StringRecord),
    annotations: Type.Optional(StringRecord),
    deletionTimestamp: Type.Optional(Type.String())
  },
  { additionalProperties: true }
)

export const KubeObject = Type.Object(
  {
    apiVersion: Type.String({ minLength: 1 }),
    kind: Type.String({ minLength: 1 }),
    metadata: ObjectMeta
  },
  { additionalProperties: true }
)
export type KubeObject = Static<typeof KubeObject> & Record<string, unknown>

export const Parent = Type.Object(
  {
    apiVersion: Type.Literal(API_VERSION),
    kind: Type.Literal(KIND),
    // A child's metadata, with the name limits of a PrometheusCluster and a required namespace.
    // The namespace goes to `helm template --namespace` and into every child: a DNS label, as
    // Kubernetes names namespaces, and nothing else.
    metadata: Type.Object({ ...ObjectMeta.properties, name: ClusterName, namespace: Type.String({ minLength: 1, maxLength: 63, pattern: NAME_PATTERN }) }, { additionalProperties: true }),
    // Validated on its own (src/api/validate.ts): a spec the hook cannot accept is reported in the
    // resource's status, never answered with a 4xx that would leave the resource without a status
    // and its finalizer stuck.
    spec: Type.Optional(Type.Unknown()),
    // What the hook wrote last time, read only to keep the times of unchanged conditions: never a
    // reason to refuse a sync (see previousConditions in src/hooks/reconcile.ts).
    status: Type.Optional(Type.Unknown())
  },
  { additionalProperties: true }
)
export type Parent = Static<typeof Parent>

/** Observed objects of each child type, keyed by name (v1) or namespace/name (v2). */
export const ObjectsByType = Type.Record(AnyKey, Type.Record(AnyKey, KubeObject))
export type ObjectsByType = Record<string, Record<string, KubeObject>>

export const HookRequest = Type.Object(
  {
    controller: Type.Optional(Type.Object({}, { additionalProperties: true })),
    parent: Parent,
    children: ObjectsByType,
    related: Type.Optional(ObjectsByType),
    finalizing: Type.Optional(Type.Boolean())
  },
  { additionalProperties: true }
)
export type HookRequest = Omit<Static<typeof HookRequest>, 'children'> & { children: ObjectsByType }

/** The response body as Metacontroller decodes it (src/hooks/answer.ts writes it). */
export interface SyncResponse {
  status: PrometheusClusterStatus
  children: KubeObject[]
  resyncAfterSeconds?: number
}

export interface FinalizeResponse extends SyncResponse {
  finalized: boolean
}
