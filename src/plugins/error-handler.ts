// The one place errors become HTTP answers. A body that is not Metacontroller's: 422 naming the
// fields. BusyError (too many renders waiting, or past the call's deadline): 429 with Retry-After.
// Fastify's own client errors (malformed JSON 400, body too large 413, not JSON 415) keep their
// status. Anything else is a bug: 500, logged with its stack. None of them changes a child.
import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { InvalidBody } from '../api/validate.js'
import { BusyError } from '../core/errors.js'

function answer(reply: FastifyReply, statusCode: number, code: string, message: string, extra: Record<string, unknown> = {}) {
  return reply.code(statusCode).send({ statusCode, code, error: STATUS_CODES[statusCode], message, ...extra })
}

export function errorHandler(retryAfterSeconds: number) {
  return (error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof InvalidBody) {
      request.log.warn({ errors: error.errors }, 'rejected an invalid hook request')
      return answer(reply, 422, error.code, error.message, { errors: error.errors })
    }
    if (error instanceof BusyError) {
      request.log.warn(error.message)
      void reply.header('retry-after', String(retryAfterSeconds))
      return answer(reply, 429, error.code, error.message)
    }
    const { statusCode } = error as FastifyError
    if (statusCode !== undefined && statusCode >= 400 && statusCode < 500) return answer(reply, statusCode, (error as FastifyError).code, error.message)
    request.log.error({ err: error }, 'hook call failed')
    return answer(reply, 500, 'InternalError', error.message)
  }
}
