// The values contract between the hook and the bundled chart (charts/prometheus-cluster), defined
// once. src/core/values.ts computes them; charts/prometheus-cluster/values.schema.json and
// values.yaml are generated from this schema and from the values of `spec: {}` (make crd), and a
// test fails when the committed files differ. Every name, label and path the templates use comes
// in here, decided in src/core: the chart derives nothing.
import { Type, type Static } from '@sinclair/typebox'
import { AnyKey } from './kube-types.js'

const Name = (description: string) => Type.String({ description, minLength: 1, maxLength: 253 })

/** Labels as an ordered list, so the objects render with their labels in one stable order. */
const Labels = (description: string) =>
  Type.Array(Type.Object({ name: Type.String({ minLength: 1 }), value: Type.String() }, { additionalProperties: false }), { description, minItems: 1 })

const RetentionMode = Type.Union([Type.Literal('Retain'), Type.Literal('Delete')])
const Quantities = Type.Union([Type.Record(AnyKey, Type.Union([Type.String(), Type.Number(), Type.Null()])), Type.Null()])

export const ChartValues = Type.Object(
  {
    names: Type.Object(
      {
        statefulSet: Name('The StatefulSet, and the Role, RoleBinding, ServiceAccount and PodDisruptionBudget.'),
        service: Name('The ClusterIP Service of the servers.'),
        headlessService: Name('The StatefulSet\'s governing Service (per-pod DNS names).'),
        configMap: Name('The ConfigMap holding prometheus.yml and the rules file.'),
        serviceAccount: Name('The servers\' ServiceAccount.'),
        role: Name('The Role granting service discovery in the namespace.'),
        roleBinding: Name('The RoleBinding of that Role to the ServiceAccount.'),
        podDisruptionBudget: Name('The PodDisruptionBudget, rendered only above one replica.'),
        claimTemplate: Name('The StatefulSet\'s claim template: claims are <claimTemplate>-<statefulSet>-<ordinal>. Never changes.')
      },
      { description: 'Object names, derived from the PrometheusCluster\'s name only (never the release name), so a re-created cluster re-attaches its claims.', additionalProperties: false }
    ),
    labels: Type.Object(
      {
        selector: Labels('Labels the StatefulSet, Services and PodDisruptionBudget select the pods by. The StatefulSet\'s selector is immutable: never change them.'),
        common: Labels('Labels of every object: the selector labels and a few static ones. Metacontroller adds controller-uid to the objects itself.'),
        pod: Labels('Labels of the Prometheus pods: the common labels and the spec\'s podMetadata.labels.')
      },
      { description: 'Labels, as ordered lists of name and value.', additionalProperties: false }
    ),
    paths: Type.Object(
      {
        configDir: Type.String({ description: 'Where the ConfigMap is mounted (as a directory, so the kubelet updates the files in running pods).', pattern: '^/' }),
        configFile: Type.String({ description: 'The prometheus.yml file name in the ConfigMap and in configDir.', minLength: 1 }),
        rulesFile: Type.String({ description: 'The rules file name, present only when rules is not empty.', minLength: 1 }),
        data: Type.String({ description: 'Where the data volume is mounted: the TSDB.', pattern: '^/' })
      },
      { description: 'Paths in the Prometheus container.', additionalProperties: false }
    ),
    replicas: Type.Integer({ description: 'Number of Prometheus servers; 0 scales them away and keeps the claims.', minimum: 0 }),
    image: Type.String({ description: 'The Prometheus image: quay.io/prometheus/prometheus:<spec.version>, or spec.image.', minLength: 1 }),
    imagePullPolicy: Type.Union([Type.Literal('Always'), Type.Literal('IfNotPresent'), Type.Literal('Never')], { description: 'The Prometheus container\'s image pull policy.' }),
    retention: Type.String({ description: '--storage.tsdb.retention.time', minLength: 1 }),
    retentionSize: Type.String({ description: '--storage.tsdb.retention.size; empty: the flag is omitted.' }),
    storage: Type.Object(
      {
        size: Type.String({ description: 'Size of each server\'s claim.', minLength: 1 }),
        storageClassName: Type.String({ description: 'Empty: omitted, and the cluster\'s default StorageClass is used.' }),
        persistentVolumeClaimRetentionPolicy: Type.Object({ whenDeleted: RetentionMode, whenScaled: RetentionMode }, { additionalProperties: false })
      },
      { description: 'The claim template and what happens to the claims when the StatefulSet is deleted or scaled down.', additionalProperties: false }
    ),
    resources: Type.Object(
      { requests: Type.Optional(Quantities), limits: Type.Optional(Quantities) },
      { description: 'The container\'s resources. Helm merges values into these defaults key by key: the hook sends null for every default key the spec leaves out, so the spec\'s resources replace the defaults whole.', additionalProperties: false }
    ),
    secretVolumes: Type.Array(
      Type.Object({ volume: Type.String({ minLength: 1, maxLength: 63 }), secretName: Type.String({ minLength: 1 }), mountPath: Type.String({ pattern: '^/' }) }, { additionalProperties: false }),
      { description: 'Secrets mounted read-only in the Prometheus container; the generated configuration reads credentials from them by file.' }
    ),
    podAnnotations: Type.Record(AnyKey, Type.String(), { description: 'Annotations of the Prometheus pods.' }),
    externalUrl: Type.String({ description: '--web.external-url; empty: the flag is omitted.' }),
    priorityClassName: Type.String({ description: 'The pods\' PriorityClass; empty: omitted.' }),
    imagePullSecrets: Type.Array(Type.Object({ name: Type.String({ minLength: 1 }) }, { additionalProperties: false }), { description: 'Omitted when empty.' }),
    topologySpreadConstraints: Type.Array(Type.Record(AnyKey, Type.Unknown()), { description: 'Each with the selector labels as its labelSelector. Omitted when empty.' }),
    nodeSelector: Type.Record(AnyKey, Type.String(), { description: 'Omitted when empty.' }),
    tolerations: Type.Array(Type.Record(AnyKey, Type.Unknown()), { description: 'Omitted when empty.' }),
    affinity: Type.Record(AnyKey, Type.Unknown(), { description: 'The spec\'s affinity; its podAntiAffinity defaults to preferring a node per server.' }),
    config: Type.String({ description: 'The full prometheus.yml, generated or the spec\'s own, checked by promtool before it is rendered. Prometheus re-reads it every 30 s (auto-reload): no restart.', minLength: 1 }),
    rules: Type.String({ description: 'The rules file (YAML text); empty: no rules file.' }),
    global: Type.Optional(
      Type.Record(AnyKey, Type.Unknown(), {
        description: 'Helm\'s global values, which helm gives a chart rendered as a subchart: the hook renders several clusters in one helm run, each as an alias of this chart (src/render/batch.ts). The templates read none.'
      })
    )
  },
  {
    title: 'prometheus-cluster values (computed by prometheus-cluster-controller)',
    description: 'Values the hook computes from a PrometheusCluster; every string is rendered through quote, so no value can become YAML structure.',
    additionalProperties: false
  }
)
export type ChartValues = Static<typeof ChartValues>
