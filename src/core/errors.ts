// Errors with stable codes. The code names what went wrong for logs, metrics and the condition
// reason in the resource's status; the message says it to a person.

export type ErrorCode =
  | 'InvalidRequest' // the hook body does not match Metacontroller's contract
  | 'InvalidSpec' // the parent's spec does not match the spec schema (reported in its status)
  | 'InvalidConfiguration' // Prometheus would reject the configuration or rules
  | 'RenderFailed' // helm failed or produced something unusable
  | 'RenderTimeout' // helm or promtool ran past the render timeout
  | 'ToolMissing' // helm or promtool cannot be executed
  | 'Overloaded' // too many renders are waiting

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
