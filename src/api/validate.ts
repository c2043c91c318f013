// Validates a hook body against Metacontroller's contract and the spec schema, filling in the
// spec's defaults first (as the API server does), and says which field is wrong and how.
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { Value } from '@sinclair/typebox/value'
import { HookRequest } from './hook-request.js'
import { PrometheusClusterSpec } from './spec.js'

const checker = TypeCompiler.Compile(HookRequest)
const MAX_REPORTED = 10

export interface FieldError {
  /** Dotted path of the field, e.g. `parent.spec.replicas`. */
  field: string
  message: string
}

export type Validated = { ok: true; request: HookRequest } | { ok: false; errors: FieldError[] }

function dotted(pointer: string): string {
  if (pointer === '') return '(body)'
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((part, i) => (/^[0-9]+$/.test(part) ? `[${part}]` : i === 0 ? part : `.${part}`))
    .join('')
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Validates `body` in place: the parent's spec gains its defaults. */
export function validateHookRequest(body: unknown): Validated {
  if (isRecord(body) && isRecord(body.parent)) {
    const parent = body.parent
    if (parent.spec === undefined) parent.spec = {}
    if (isRecord(parent.spec)) parent.spec = Value.Default(PrometheusClusterSpec, parent.spec)
  }
  if (checker.Check(body)) return { ok: true, request: body }
  const errors: FieldError[] = []
  const seen = new Set<string>()
  for (const error of checker.Errors(body)) {
    const field = dotted(error.path)
    const key = `${field}\0${error.message}`
    if (seen.has(key)) continue
    seen.add(key)
    errors.push({ field, message: error.message })
    if (errors.length >= MAX_REPORTED) break
  }
  return { ok: false, errors }
}

export function describeErrors(errors: FieldError[]): string {
  return errors.map((e) => `${e.field}: ${e.message}`).join('; ')
}
