// Errors with stable codes. The code names what went wrong for logs, metrics and the condition
// reason in the resource's status; the message says it to a person. Two kinds:
// - HookError: the children could not be computed (the spec, the configuration, a tool). The hook
//   still answers 200, keeps the children as they are and says why in the status.
// - BusyError: the hook cannot take the call now. It answers 429 with Retry-After and writes
//   nothing; Metacontroller calls again.

export const ERROR_CODES = [
  'InvalidRequest', // the hook body does not match Metacontroller's contract (answered 400/422, never in a status)
  'InvalidSpec', // the parent's spec does not match the spec schema (reported in its status)
  'InvalidConfiguration', // Prometheus would reject the configuration or rules
  'RenderFailed', // helm failed or produced something unusable
  'RenderTimeout', // helm or promtool ran past the render timeout
  'ToolMissing' // helm or promtool cannot be executed
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

export class HookError extends Error {
  readonly code: ErrorCode
  /** Whether retrying the same input can succeed (a timeout can; a bad configuration cannot). */
  readonly transient: boolean

  constructor(code: ErrorCode, message: string, options: { transient?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause })
    this.name = 'HookError'
    this.code = code
    this.transient = options.transient ?? false
  }
}

export function isHookError(error: unknown): error is HookError {
  return error instanceof HookError
}

/** Too many renders waiting, or the call's deadline passed: try again shortly. */
export class BusyError extends Error {
  readonly code = 'Overloaded'

  constructor(message: string) {
    super(message)
    this.name = 'BusyError'
  }
}
