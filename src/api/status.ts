// The PrometheusCluster status, computed by src/core/status.ts and written by Metacontroller.
import { Type, type Static } from '@sinclair/typebox'

export const CONDITION_TYPES = ['Ready', 'Progressing', 'Degraded'] as const
export type ConditionType = (typeof CONDITION_TYPES)[number]

export const Condition = Type.Object(
  {
    type: Type.String({ description: 'Ready, Progressing or Degraded.', maxLength: 64 }),
    status: Type.Union([Type.Literal('True'), Type.Literal('False'), Type.Literal('Unknown')], { description: 'True, False or Unknown.' }),
    reason: Type.String({ description: 'A CamelCase word saying why the condition has its status.', maxLength: 128 }),
    message: Type.String({ description: 'What a person needs to know, in a sentence.', maxLength: 4096 }),
    lastTransitionTime: Type.String({ description: 'When the condition last changed status.', format: 'date-time' }),
    observedGeneration: Type.Optional(Type.Integer({ description: 'The metadata.generation the condition was computed for.', minimum: 0 }))
  },
  { description: 'One aspect of the cluster\'s state, Kubernetes style.' }
)
export type Condition = Static<typeof Condition>

export const PrometheusClusterStatus = Type.Object(
  {
    observedGeneration: Type.Optional(Type.Integer({ description: 'The metadata.generation the controller last acted on (set by Metacontroller).', minimum: 0 })),
    replicas: Type.Integer({ description: 'Prometheus pods that exist.', minimum: 0 }),
    readyReplicas: Type.Integer({ description: 'Prometheus pods that are ready.', minimum: 0 }),
    updatedReplicas: Type.Integer({ description: 'Prometheus pods running the current pod template.', minimum: 0 }),
    selector: Type.String({ description: 'Label selector of the Prometheus pods, for the scale subresource and autoscalers.' }),
    version: Type.String({ description: 'The Prometheus version requested by the spec.' }),
    image: Type.String({ description: 'The container image of the StatefulSet\'s pod template.' }),
    promtool: Type.String({ description: 'The promtool that checks this cluster\'s configuration and rules before they reach the servers, with its version.' }),
    conditions: Type.Array(Condition, {
      description: 'Ready, Progressing and Degraded.',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type']
    })
  },
  { description: 'The observed state of a PrometheusCluster, computed by the controller.' }
)
export type PrometheusClusterStatus = Static<typeof PrometheusClusterStatus>
