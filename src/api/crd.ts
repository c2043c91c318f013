// Turns the TypeBox schemas into the PrometheusCluster CustomResourceDefinition. Kubernetes accepts
// only structural schemas, so JSON-Schema constructs TypeBox emits are rewritten in one visible pass:
//   const                          -> enum of one value
//   anyOf of literals              -> type + enum
//   int-or-string unions           -> x-kubernetes-int-or-string with the canonical anyOf; the
//                                     branches' own checks (minimum, pattern, maxLength) on the
//                                     field itself, where each applies only to its own type
//   patternProperties (records)    -> additionalProperties, and a CEL rule for a key pattern
//   additionalProperties: false    -> dropped (the API server prunes unknown fields instead)
//   $id, $schema, required fields that have defaults -> dropped
import { stringify } from 'yaml'
import { API_VERSION, CATEGORIES, GROUP, KIND, NAME_RULE, PLURAL, SHORT_NAMES, SINGULAR, VERSION } from './resource.js'
import { AnyKey } from './kube-types.js'
import { PrometheusClusterSpec } from './spec.js'
import { PrometheusClusterStatus } from './status.js'

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type JsonObject = { [key: string]: Json }

const DROPPED_KEYS = new Set(['$id', '$schema', 'additionalProperties', 'patternProperties'])

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function literalUnion(anyOf: Json[]): Json[] | undefined {
  const values: (Json | undefined)[] = anyOf.map((branch) => (isObject(branch) && 'const' in branch ? branch.const : undefined))
  return values.every((v) => v !== undefined) ? values : undefined
}

/** Rewrites one schema node (and its children) into the structural subset Kubernetes accepts. */
export function toStructural(node: JsonObject): JsonObject {
  const out: JsonObject = {}
  for (const [key, value] of Object.entries(node)) {
    if (DROPPED_KEYS.has(key)) continue
    if (key === 'const') {
      out.enum = [value]
    } else if (key === 'properties' && isObject(value)) {
      out.properties = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toStructural(v as JsonObject)]))
    } else if (key === 'items' && isObject(value)) {
      out.items = toStructural(value)
    } else if (key === 'required' && Array.isArray(value)) {
      const props = isObject(node.properties) ? node.properties : {}
      const required = value.filter((name) => !(isObject(props[name as string]) && 'default' in (props[name as string] as JsonObject)))
      if (required.length > 0) out.required = required
    } else if (key === 'anyOf' && Array.isArray(value)) {
      const literals = literalUnion(value)
      if (literals) {
        out.type = typeof literals[0]
        out.enum = literals
      } else if (node['x-kubernetes-int-or-string'] === true) {
        out.anyOf = [{ type: 'integer' }, { type: 'string' }]
        for (const branch of value.filter(isObject)) {
          for (const [check, limit] of Object.entries(branch)) {
            if (check === 'type') continue
            if (check in out) throw new Error(`int-or-string branches both set ${check}: ${JSON.stringify(value)}`)
            out[check] = limit
          }
        }
      } else {
        throw new Error(`unsupported anyOf in CRD schema: ${JSON.stringify(value)}`)
      }
    } else {
      out[key] = value
    }
  }
  if (node['x-kubernetes-preserve-unknown-fields'] === true) {
    out.type = 'object'
  } else if (isObject(node.patternProperties)) {
    const [[keyPattern, valueSchema] = ['', {}]] = Object.entries(node.patternProperties)
    out.type = 'object'
    out.additionalProperties = toStructural(valueSchema as JsonObject)
    if (keyPattern !== ANY_KEY) {
      const rules = Array.isArray(out['x-kubernetes-validations']) ? out['x-kubernetes-validations'] : []
      out['x-kubernetes-validations'] = [...rules, { rule: `self.all(k, k.matches(${celString(keyPattern)}))`, message: `every key must match ${keyPattern}` }]
    }
  }
  return out
}

/** The key pattern of a map that takes any key (AnyKey in kube-types.ts). */
const ANY_KEY = AnyKey.pattern

/** A CEL string literal. */
function celString(text: string): string {
  return `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`
}

function plain(schema: unknown): JsonObject {
  return JSON.parse(JSON.stringify(schema)) as JsonObject
}

/** The CustomResourceDefinition object, built only from the schemas in src/api. */
export function buildCrd(): JsonObject {
  const spec = toStructural(plain(PrometheusClusterSpec))
  spec.default = {}
  const status = toStructural(plain(PrometheusClusterStatus))
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${PLURAL}.${GROUP}`,
      // Uninstalling the CRD chart must not delete every PrometheusCluster with the CRD.
      annotations: { 'helm.sh/resource-policy': 'keep' },
      labels: { 'app.kubernetes.io/name': 'prometheus-cluster-controller', 'app.kubernetes.io/component': 'crd' }
    },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: { kind: KIND, listKind: `${KIND}List`, plural: PLURAL, singular: SINGULAR, shortNames: SHORT_NAMES, categories: CATEGORIES },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: {
            status: {},
            scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' }
          },
          additionalPrinterColumns: [
            { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas', description: 'Desired Prometheus servers.' },
            { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas', description: 'Ready Prometheus servers.' },
            { name: 'Version', type: 'string', jsonPath: '.status.version', description: 'Prometheus version.' },
            { name: 'Status', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: 'The Ready condition.' },
            { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason', priority: 1, description: 'Why the cluster is or is not ready.' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: `A PrometheusCluster (${API_VERSION}) runs Prometheus servers in its namespace, with data volumes that outlive it.`,
              properties: {
                apiVersion: { type: 'string', description: 'APIVersion of the object.' },
                kind: { type: 'string', description: 'Kind of the object.' },
                metadata: { type: 'object' },
                spec,
                status
              },
              'x-kubernetes-validations': [NAME_RULE]
            }
          }
        }
      ]
    }
  }
}

export const CRD_HEADER = '# Generated by `make crd` (npm run crd) from src/api. Do not edit: change the schemas instead.\n'

/** The CRD as the YAML text committed in the repository. */
export function crdYaml(): string {
  return CRD_HEADER + stringify(buildCrd(), { lineWidth: 0, aliasDuplicateObjects: false })
}

/** Where the generated CRD is committed, relative to the repository root. */
export const CRD_PATHS = ['charts/prometheus-cluster-crd/templates/crd.yaml', 'metacontroller/crd/crd.yaml']
