// Validates a hook body in two parts, and says which field is wrong and how:
// - the envelope (Metacontroller's contract: the parent's identity, the observed children). A body
//   that fails it did not come from Metacontroller and is answered 422.
// - the parent's spec, with its defaults filled in first (as the API server does). A spec that
//   fails it is the resource's problem, reported in its status: the CRD and the hook check the same
//   rules, but a spec stored before a stricter rule existed must still get a status and be deletable.
import type { TSchema } from '@sinclair/typebox'
import { TypeCompiler, type ValueErrorIterator } from '@sinclair/typebox/compiler'
import { Value } from '@sinclair/typebox/value'
import { HookRequest } from './hook-request.js'
import { PrometheusClusterSpec } from './spec.js'

const envelopeChecker = TypeCompiler.Compile(HookRequest)
const specChecker = TypeCompiler.Compile(PrometheusClusterSpec)
const MAX_REPORTED = 10

export interface FieldError {
  /** Dotted path of the field, e.g. `parent.spec.replicas`. */
  field: string
  message: string
}

export type SpecVerdict =
  | { ok: true; spec: PrometheusClusterSpec }
  /** `view`: the default spec with the valid ones of the fields the status reads, for the status alone. */
  | { ok: false; errors: FieldError[]; view: PrometheusClusterSpec }

export type Validated = { ok: true; request: HookRequest; spec: SpecVerdict } | { ok: false; errors: FieldError[] }

function dotted(prefix: string, pointer: string): string {
  if (pointer === '') return prefix || '(body)'
  const path = pointer
    .slice(1)
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((part, i) => (/^[0-9]+$/.test(part) ? `[${part}]` : i === 0 && prefix === '' ? part : `.${part}`))
    .join('')
  return `${prefix}${path}`
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function fieldErrors(errors: ValueErrorIterator, prefix: string): FieldError[] {
  const out: FieldError[] = []
  const seen = new Set<string>()
  for (const error of errors) {
    const field = dotted(prefix, error.path)
    const key = `${field}\0${error.message}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push({ field, message: error.message })
    if (out.length >= MAX_REPORTED) break
  }
  return out
}

/** No spec field nests deeper than this; a deeper value is refused before anything walks it. */
const MAX_SPEC_DEPTH = 32

/** Whether `value` nests arrays or objects deeper than `limit`, found without recursion. */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]]
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [node, depth] = item
    if (typeof node !== 'object' || node === null) continue
    if (depth >= limit) return true
    for (const child of Object.values(node)) stack.push([child, depth + 1])
  }
  return false
}

/** Checks a parent's spec (a missing one is `{}`, as the CRD defaults it), filling in its defaults. */
export function validateSpec(raw: unknown): SpecVerdict {
  // A spec from the API server carries the CRD's defaults already: check it as it is first, and
  // fill in defaults (which walks the whole schema) only when that fails. The compiled check does
  // not descend into free-form values; Value.Default's clone does, so depth is bounded before it.
  if (specChecker.Check(raw)) return { ok: true, spec: raw }
  if (nestsDeeperThan(raw, MAX_SPEC_DEPTH)) {
    return { ok: false, errors: [{ field: 'parent.spec', message: `Expected no value nested deeper than ${MAX_SPEC_DEPTH} levels` }], view: statusView(undefined) }
  }
  const spec = raw === undefined ? Value.Default(PrometheusClusterSpec, {}) : isRecord(raw) ? Value.Default(PrometheusClusterSpec, raw) : raw
  if (specChecker.Check(spec)) return { ok: true, spec }
  return { ok: false, errors: fieldErrors(specChecker.Errors(spec), 'parent.spec'), view: statusView(spec) }
}

/** The fields of a spec the status reads, each taken only when valid on its own. */
const STATUS_FIELDS = ['replicas', 'version', 'image'] as const

function statusView(spec: unknown): PrometheusClusterSpec {
  const view: Record<string, unknown> = Value.Default(PrometheusClusterSpec, {}) as Record<string, unknown>
  if (isRecord(spec)) {
    for (const field of STATUS_FIELDS) {
      if (Value.Check(PrometheusClusterSpec.properties[field], spec[field])) view[field] = spec[field]
    }
  }
  return view as PrometheusClusterSpec
}

/** A body that fails a route's schema: the fields named as `validateHookRequest` names them. */
export class InvalidBody extends Error {
  readonly code = 'InvalidRequest'

  constructor(readonly errors: FieldError[]) {
    super(describeErrors(errors))
    this.name = 'InvalidBody'
  }
}

/**
 * The validator of a route's body schema, for Fastify's validator compiler: TypeBox's own check,
 * with at most MAX_REPORTED errors named by dotted field (a hostile body can break every rule).
 */
export function bodyValidator(schema: TSchema): (value: unknown) => { value: unknown } | { error: InvalidBody } {
  const checker = TypeCompiler.Compile(schema)
  return (value) => (checker.Check(value) ? { value } : { error: new InvalidBody(fieldErrors(checker.Errors(value), '')) })
}

/** Validates `body` in place: the parent's spec gains its defaults. */
export function validateHookRequest(body: unknown): Validated {
  if (!envelopeChecker.Check(body)) return { ok: false, errors: fieldErrors(envelopeChecker.Errors(body), '') }
  const spec = validateSpec(body.parent.spec)
  if (spec.ok) body.parent.spec = spec.spec
  return { ok: true, request: body, spec }
}

export function describeErrors(errors: FieldError[]): string {
  return errors.map((e) => `${e.field}: ${e.message}`).join('; ')
}
