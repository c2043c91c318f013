// A Prometheus duration, as Prometheus' configuration and flags accept it.
import { Type, type SchemaOptions, type TString } from '@sinclair/typebox'

/** A Prometheus duration such as `30s`, `5m`, `1h30m` or `15d`. */
export const DURATION_PATTERN = '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$'

export const Duration = (description: string, options: SchemaOptions = {}): TString =>
  Type.String({ pattern: DURATION_PATTERN, maxLength: 32, description, ...options })
