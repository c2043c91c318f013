// Small schema builders shared by the API definitions. Each one is a plain TypeBox schema that
// the hook validates with, and that the CRD transform (crd.ts) turns into a structural schema.
import { Type, type TSchema, type SchemaOptions } from '@sinclair/typebox'

/**
 * The key of a map that takes any key. TypeBox's own any-key pattern, ^(.*)$, does not match a key
 * holding a line terminator (\n, \r, U+2028, U+2029), and its check then skips that key's value:
 * every map of the API takes this key schema instead, so every value is checked.
 */
export const AnyKey = Type.String({ pattern: '^[\\s\\S]*$' })

/** A DNS subdomain (RFC 1123): the names of most Kubernetes objects, Secrets among them. */
export const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'

/** A Kubernetes resource quantity: an integer or a string such as `500m`, `8Gi`. */
export const QUANTITY_PATTERN = '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$'

export const Quantity = (description: string, options: SchemaOptions = {}) =>
  Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: QUANTITY_PATTERN, maxLength: 64 })], {
    description,
    'x-kubernetes-int-or-string': true,
    ...options
  })

/** A map of string to string (labels, annotations, headers, node selectors). */
export const StringMap = (description: string, options: SchemaOptions = {}) =>
  Type.Record(AnyKey, Type.String({ maxLength: 4096 }), { description, maxProperties: 64, ...options })

/**
 * An object whose content Kubernetes validates elsewhere (for example a pod's affinity). The hook
 * accepts any object; the CRD keeps every field it is given.
 */
export const Opaque = (description: string) =>
  Type.Record(AnyKey, Type.Unknown(), {
    description,
    'x-kubernetes-preserve-unknown-fields': true
  })

/** Marks a schema as optional in its parent object. */
export const Optional = <T extends TSchema>(schema: T) => Type.Optional(schema)

/** Two-value enums, written as a union of literals so TypeScript sees the values. */
export const RetentionMode = (description: string) =>
  Type.Union([Type.Literal('Retain'), Type.Literal('Delete')], { description, default: 'Retain' })
