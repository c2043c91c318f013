// The PrometheusCluster spec, defined once. The hook validates with it, TypeScript types come from
// it, and the CRD's openAPIV3Schema is generated from it (src/api/crd.ts).
import { Type, type Static } from '@sinclair/typebox'
import { Duration } from './duration.js'
import { HttpClientAuth, SECRETS_DIR } from './credentials.js'
import { AnyKey, DNS_SUBDOMAIN, Opaque, Optional, Quantity, RetentionMode, StringMap } from './kube-types.js'

export const DEFAULT_VERSION = 'v3.13.5'

/**
 * The Prometheus versions a cluster may run: 3.0 up to the minor of the promtool that checks
 * every configuration (tools/promtool/go.mod; a test keeps them in step). promtool 3.13 knows
 * every field those servers read, so it refuses what they would refuse; a newer server's new
 * fields it would wrongly refuse, so newer versions wait for a newer promtool.
 */
export const SUPPORTED_VERSIONS = { first: 'v3.0.0', lastMinor: 'v3.13' } as const
const LAST_MINOR = Number(SUPPORTED_VERSIONS.lastMinor.split('.')[1])
const VERSION_PATTERN = `^v3\\.(${Array.from({ length: LAST_MINOR + 1 }, (_, minor) => String(minor)).join('|')})\\.[0-9]+$`
export const DEFAULT_IMAGE_REPOSITORY = 'quay.io/prometheus/prometheus'

const LABEL_NAME = '^[a-zA-Z_][a-zA-Z0-9_]*$'

export const Storage = Type.Object(
  {
    size: Quantity('Size of each replica\'s data volume. Immutable: a StatefulSet\'s claim templates cannot change; resize the claims themselves.', { default: '8Gi' }),
    storageClassName: Optional(
      Type.String({
        description: 'StorageClass of the data volumes; the cluster\'s default class when omitted. Immutable.',
        pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$',
        maxLength: 253
      })
    ),
    persistentVolumeClaimRetentionPolicy: Type.Object(
      {
        whenDeleted: RetentionMode('What happens to the data volumes when the PrometheusCluster is deleted: Retain keeps them so a cluster re-created with the same name re-attaches them; Delete removes them.'),
        whenScaled: RetentionMode('What happens to the data volume of a replica removed by scaling down: Retain keeps it for a later scale-up; Delete removes it.')
      },
      {
        description: 'Whether the data volumes outlive the cluster and its removed replicas.',
        additionalProperties: false,
        default: {}
      }
    )
  },
  {
    description: 'Persistent storage of each replica: one ReadWriteOnce claim per pod.',
    additionalProperties: false,
    default: {},
    'x-kubernetes-validations': [
      // Guarded with has(): the API server checks the rules against the `default: {}` of storage
      // without the nested defaults filled in, and an unguarded self.size rejects the whole CRD.
      {
        rule: 'has(self.size) == has(oldSelf.size) && (!has(self.size) || self.size == oldSelf.size)',
        message: 'storage.size is immutable; resize the PersistentVolumeClaims directly'
      },
      {
        rule: 'has(self.storageClassName) == has(oldSelf.storageClassName) && (!has(self.storageClassName) || self.storageClassName == oldSelf.storageClassName)',
        message: 'storage.storageClassName is immutable'
      }
    ]
  }
)
export type Storage = Static<typeof Storage>

export const Resources = Type.Object(
  {
    requests: Optional(Type.Record(AnyKey, Quantity('A quantity.'), { description: 'Minimum compute resources, for example cpu: 100m, memory: 512Mi.', maxProperties: 16 })),
    limits: Optional(Type.Record(AnyKey, Quantity('A quantity.'), { description: 'Maximum compute resources, for example memory: 2Gi.', maxProperties: 16 }))
  },
  {
    description: 'Compute resources of the Prometheus container. Defaults to requests cpu 100m, memory 512Mi and a memory limit of 2Gi.',
    additionalProperties: false
  }
)
export type Resources = Static<typeof Resources>

export const Rule = Type.Object(
  {
    record: Optional(Type.String({ description: 'Name of the time series a recording rule writes. Set exactly one of record and alert.', pattern: '^[a-zA-Z_:][a-zA-Z0-9_:]*$', maxLength: 256 })),
    alert: Optional(Type.String({ description: 'Name of the alert an alerting rule fires. Set exactly one of record and alert.', minLength: 1, maxLength: 256 })),
    expr: Type.String({ description: 'The PromQL expression to evaluate.', minLength: 1, maxLength: 16384 }),
    for: Optional(Duration('Alerting rules only: how long the expression must hold before the alert fires.')),
    keepFiringFor: Optional(Duration('Alerting rules only: how long the alert keeps firing after the expression stops holding.')),
    // No key pattern here: the API server cannot afford a CEL check of every key this deep in
    // arrays (its cost estimate exceeds the budget), and the CRD and the hook must accept the same
    // specs. promtool rejects a bad label name, naming it, before it reaches a server.
    labels: Optional(StringMap('Labels to add or overwrite on the result (label names: [a-zA-Z_][a-zA-Z0-9_]*).')),
    annotations: Optional(StringMap('Alerting rules only: annotations of the alert, such as summary and description.'))
  },
  {
    description: 'A recording rule (record) or an alerting rule (alert).',
    additionalProperties: false,
    'x-kubernetes-validations': [
      { rule: 'has(self.record) != has(self.alert)', message: 'exactly one of record and alert must be set' },
      {
        rule: '!has(self.record) || (!has(self.for) && !has(self.keepFiringFor) && !has(self.annotations))',
        message: 'for, keepFiringFor and annotations apply to alerting rules only'
      }
    ]
  }
)
export type Rule = Static<typeof Rule>

export const RuleGroup = Type.Object(
  {
    name: Type.String({ description: 'Name of the group, unique within the cluster.', minLength: 1, maxLength: 256 }),
    interval: Optional(Duration('How often the group is evaluated; the evaluation interval when omitted.')),
    limit: Optional(Type.Integer({ description: 'Maximum number of alerts or series a rule of the group may produce; 0 means no limit.', minimum: 0 })),
    queryOffset: Optional(Duration('How far back in time the group\'s rules evaluate, to allow for late samples.')),
    rules: Type.Array(Rule, { description: 'The rules of the group, evaluated in order.', minItems: 1, maxItems: 500 })
  },
  { description: 'A group of rules evaluated together.', additionalProperties: false }
)
export type RuleGroup = Static<typeof RuleGroup>

export const Rules = Type.Object(
  {
    groups: Type.Array(RuleGroup, {
      description: 'Rule groups, as in a Prometheus rules file.',
      maxItems: 100,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name']
    })
  },
  { description: 'Recording and alerting rules, checked with promtool before they reach the servers.', additionalProperties: false }
)
export type Rules = Static<typeof Rules>

const ONE_AUTH = { rule: '!(has(self.basicAuth) && has(self.authorization))', message: 'basicAuth and authorization cannot both be set' }

export const RemoteWrite = Type.Object(
  {
    url: Type.String({ description: 'URL of the remote write endpoint.', pattern: '^https?://.+', maxLength: 2048 }),
    name: Optional(Type.String({ description: 'Name of the queue, unique among the remote writes; shown in metrics and logs.', pattern: '^[a-zA-Z0-9_-]+$', maxLength: 128 })),
    remoteTimeout: Optional(Duration('Timeout of each request to the endpoint.')),
    headers: Optional(StringMap('HTTP headers sent with each request. They are stored in plain text (in this resource and the ConfigMap): put credentials in basicAuth, authorization or tls, which take them from Secrets.')),
    ...HttpClientAuth
  },
  { description: 'An endpoint Prometheus streams its samples to.', additionalProperties: false, 'x-kubernetes-validations': [ONE_AUTH] }
)
export type RemoteWrite = Static<typeof RemoteWrite>

export const Alertmanager = Type.Object(
  {
    targets: Type.Array(Type.String({ pattern: '^[^\\s/]+:[0-9]+$', maxLength: 512 }), {
      description: 'Alertmanager addresses as host:port, for example alertmanager.monitoring.svc:9093.',
      minItems: 1,
      maxItems: 32
    }),
    scheme: Optional(Type.Union([Type.Literal('http'), Type.Literal('https')], { description: 'Scheme used to reach the Alertmanagers; http when omitted.' })),
    pathPrefix: Optional(Type.String({ description: 'Path prefix of the Alertmanager API, for Alertmanagers served under a sub-path.', pattern: '^/', maxLength: 512 })),
    timeout: Optional(Duration('Timeout of each request to the Alertmanagers.')),
    ...HttpClientAuth
  },
  { description: 'A set of Alertmanagers that receive the same alerts.', additionalProperties: false, 'x-kubernetes-validations': [ONE_AUTH] }
)
export type Alertmanager = Static<typeof Alertmanager>

export const Alerting = Type.Object(
  {
    alertmanagers: Type.Array(Alertmanager, { description: 'Alertmanagers that receive the alerts of the alerting rules.', maxItems: 16 })
  },
  { description: 'Where alerts are sent.', additionalProperties: false }
)
export type Alerting = Static<typeof Alerting>

export const Toleration = Type.Object(
  {
    key: Optional(Type.String({ description: 'Taint key the toleration applies to; empty matches all keys.', maxLength: 317 })),
    operator: Optional(Type.Union([Type.Literal('Exists'), Type.Literal('Equal')], { description: 'Exists or Equal (the default).' })),
    value: Optional(Type.String({ description: 'Taint value the toleration matches, with operator Equal.', maxLength: 63 })),
    effect: Optional(Type.Union([Type.Literal('NoSchedule'), Type.Literal('PreferNoSchedule'), Type.Literal('NoExecute')], { description: 'Taint effect to match; empty matches all effects.' })),
    tolerationSeconds: Optional(Type.Integer({ description: 'With effect NoExecute: how long the pod stays bound after the taint appears.' }))
  },
  { description: 'A Kubernetes toleration.', additionalProperties: false }
)
export type Toleration = Static<typeof Toleration>

export const Affinity = Type.Object(
  {
    nodeAffinity: Optional(Opaque('Node affinity, as in a pod spec.')),
    podAffinity: Optional(Opaque('Pod affinity, as in a pod spec.')),
    podAntiAffinity: Optional(Opaque('Pod anti-affinity, as in a pod spec. When omitted, the servers prefer different nodes (a soft anti-affinity on kubernetes.io/hostname).'))
  },
  { description: 'Scheduling constraints of the Prometheus pods, as in a pod spec.', additionalProperties: false }
)
export type Affinity = Static<typeof Affinity>

/** A label key: an optional DNS-subdomain prefix and a name, as Kubernetes accepts it. */
const LABEL_KEY = '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$'
const LABEL_VALUE = '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$'

/** The labels every Prometheus pod carries already; podMetadata.labels cannot set them. */
export const RESERVED_POD_LABELS = ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/component', 'app.kubernetes.io/managed-by'] as const

export const PodMetadata = Type.Object(
  {
    labels: Optional(
      Type.Record(Type.String({ pattern: LABEL_KEY, maxLength: 317 }), Type.String({ pattern: LABEL_VALUE, maxLength: 63 }), {
        description: `Labels added to the Prometheus pods, for example for a NetworkPolicy or cost allocation. ${RESERVED_POD_LABELS.join(', ')} are the controller's.`,
        maxProperties: 32,
        additionalProperties: false
      })
    ),
    annotations: Optional(StringMap('Annotations added to the Prometheus pods.'))
  },
  {
    description: 'Labels and annotations of the Prometheus pods (not of the other objects).',
    additionalProperties: false,
    'x-kubernetes-validations': [
      {
        rule: `!has(self.labels) || !(${JSON.stringify(RESERVED_POD_LABELS).replaceAll('"', "'")}.exists(k, k in self.labels))`,
        message: `podMetadata.labels cannot set ${RESERVED_POD_LABELS.join(', ')}`
      }
    ]
  }
)
export type PodMetadata = Static<typeof PodMetadata>

export const TopologySpreadConstraint = Type.Object(
  {
    maxSkew: Type.Integer({ description: 'How unevenly the cluster\'s pods may spread across the topology domains.', minimum: 1 }),
    topologyKey: Type.String({ description: 'The node label whose values are the domains, for example topology.kubernetes.io/zone.', pattern: LABEL_KEY, maxLength: 317 }),
    whenUnsatisfiable: Type.Union([Type.Literal('ScheduleAnyway'), Type.Literal('DoNotSchedule')], { description: 'ScheduleAnyway (the default) prefers spreading; DoNotSchedule requires it.', default: 'ScheduleAnyway' }),
    minDomains: Optional(Type.Integer({ description: 'With DoNotSchedule: the least number of domains to spread over.', minimum: 1 })),
    nodeAffinityPolicy: Optional(Type.Union([Type.Literal('Honor'), Type.Literal('Ignore')], { description: 'Whether nodeSelector and node affinity limit the domains counted.' })),
    nodeTaintsPolicy: Optional(Type.Union([Type.Literal('Honor'), Type.Literal('Ignore')], { description: 'Whether node taints limit the domains counted.' }))
  },
  { description: 'How to spread the cluster\'s Prometheus pods across a topology (they are the pods counted).', additionalProperties: false }
)
export type TopologySpreadConstraint = Static<typeof TopologySpreadConstraint>

/** Fields that shape the generated prometheus.yml; a raw `config` replaces all of them. */
export const GENERATED_CONFIG_FIELDS = ['scrapeInterval', 'evaluationInterval', 'externalLabels', 'remoteWrite', 'alerting', 'additionalScrapeConfigs'] as const

export const PrometheusClusterSpec = Type.Object(
  {
    replicas: Type.Integer({
      description: 'Number of Prometheus servers. Each one scrapes the same targets and keeps its own data. 0 stops every pod and keeps the data.',
      minimum: 0,
      maximum: 100,
      default: 1
    }),
    paused: Optional(Type.Boolean({ description: 'When true the controller leaves every child object exactly as it is.', default: false })),
    version: Type.String({
      description: `Prometheus version to run, ${SUPPORTED_VERSIONS.first} to ${SUPPORTED_VERSIONS.lastMinor}.x: the versions whose configuration the hook's promtool checks (status.promtool says which). With image set, give the version that image runs.`,
      pattern: VERSION_PATTERN,
      maxLength: 32,
      default: DEFAULT_VERSION
    }),
    image: Optional(Type.String({ description: `Full container image reference; when omitted, ${DEFAULT_IMAGE_REPOSITORY}:<version>.`, minLength: 1, maxLength: 512, pattern: '^[^\\s]+$' })),
    config: Optional(
      Type.String({
        description:
          'A complete prometheus.yml. When omitted, a configuration is generated that scrapes Prometheus itself and discovers annotated pods and services in the cluster\'s namespace. Cannot be combined with scrapeInterval, evaluationInterval, externalLabels, remoteWrite or alerting; rules are added to it.',
        minLength: 1,
        maxLength: 262144
      })
    ),
    retention: Duration('How long samples are kept.', { default: '15d' }),
    retentionSize: Optional(
      Type.String({
        description: 'Maximum size of stored blocks, for example 40GB; oldest blocks are removed first. Keep it below storage.size.',
        pattern: '^(0|([0-9]*(\\.[0-9]+)?(B|KB|MB|GB|TB|PB|EB)))$',
        maxLength: 32
      })
    ),
    storage: Storage,
    resources: Optional(Resources),
    scrapeInterval: Optional(Duration('How often targets are scraped; 30s when omitted.')),
    evaluationInterval: Optional(Duration('How often rules are evaluated; 30s when omitted.')),
    externalLabels: Optional(
      Type.Record(Type.String({ pattern: LABEL_NAME }), Type.String({ maxLength: 4096 }), {
        description: 'Labels added to every series and alert leaving this cluster (remote write, federation, Alertmanager).',
        maxProperties: 64,
        additionalProperties: false
      })
    ),
    rules: Optional(Rules),
    additionalScrapeConfigs: Optional(
      Type.String({
        description:
          'Scrape jobs added to the generated configuration: a YAML list of Prometheus scrape_configs entries, checked by promtool with the rest. Credentials belong in Secrets listed in secrets, referred to by file (password_file, credentials_file, ...). Not with config.',
        minLength: 1,
        maxLength: 65536
      })
    ),
    secrets: Optional(
      Type.Array(Type.String({ pattern: DNS_SUBDOMAIN, maxLength: 253 }), {
        description: `Secrets of the cluster's namespace mounted in the Prometheus pods at ${SECRETS_DIR}/<name>/, for the *_file fields of additionalScrapeConfigs or config. Those of basicAuth, authorization and tls are mounted without being listed.`,
        maxItems: 16,
        'x-kubernetes-list-type': 'set'
      })
    ),
    remoteWrite: Optional(Type.Array(RemoteWrite, { description: 'Endpoints Prometheus streams its samples to.', maxItems: 16 })),
    alerting: Optional(Alerting),
    nodeSelector: Optional(StringMap('Node labels the Prometheus pods must be scheduled on.')),
    tolerations: Optional(Type.Array(Toleration, { description: 'Tolerations of the Prometheus pods.', maxItems: 32 })),
    affinity: Optional(Affinity),
    topologySpreadConstraints: Optional(Type.Array(TopologySpreadConstraint, { description: 'How the Prometheus pods spread across zones, nodes or other domains.', maxItems: 8 })),
    priorityClassName: Optional(Type.String({ description: 'PriorityClass of the Prometheus pods.', pattern: DNS_SUBDOMAIN, maxLength: 253 })),
    imagePullSecrets: Optional(
      Type.Array(Type.Object({ name: Type.String({ description: 'Name of a Secret in the cluster\'s namespace.', pattern: DNS_SUBDOMAIN, maxLength: 253 }) }, { additionalProperties: false }), {
        description: 'Secrets in the cluster\'s namespace holding credentials to pull the Prometheus image.',
        maxItems: 16
      })
    ),
    podMetadata: Optional(PodMetadata),
    externalUrl: Optional(Type.String({ description: 'The URL Prometheus is reached at from outside (--web.external-url), used in alert links and behind a path-prefixed proxy.', pattern: '^https?://[^\\s]+$', maxLength: 2048 }))
  },
  {
    description: 'The desired state of a PrometheusCluster. An empty spec gives one Prometheus server with an 8Gi volume.',
    additionalProperties: false,
    'x-kubernetes-validations': [
      {
        rule: `!has(self.config) || (${GENERATED_CONFIG_FIELDS.map((f) => `!has(self.${f})`).join(' && ')})`,
        message: `config is a complete prometheus.yml: set ${GENERATED_CONFIG_FIELDS.join(', ')} inside it instead`
      }
    ]
  }
)
export type PrometheusClusterSpec = Static<typeof PrometheusClusterSpec>
