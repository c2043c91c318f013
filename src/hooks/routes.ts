// POST /sync, /finalize and /customize: Metacontroller's CompositeController hooks. An invalid body
// gets a 4xx naming the field; overload gets 429 with Retry-After; nothing here ever answers with a
// set of children computed from partial knowledge.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { CustomizeResponse } from '../api/hook-request.js'
import { describeErrors, validateCustomizeRequest, validateHookRequest, type FieldError } from '../api/validate.js'
import { isHookError } from '../core/errors.js'
import { relatedResources } from '../core/related.js'
import type { HookMetrics } from '../plugins/metrics.js'
import { answerJson } from './answer.js'
import { finalize, sync, type ReconcileDeps } from './reconcile.js'

export interface HookRoutesOptions {
  deps: ReconcileDeps
  metrics: HookMetrics
}

type Hook = 'sync' | 'finalize' | 'customize'

export async function hookRoutes(app: FastifyInstance, { deps, metrics }: HookRoutesOptions): Promise<void> {
  const invalid = (hook: Hook, errors: FieldError[], request: FastifyRequest, reply: FastifyReply) => {
    request.log.warn({ hook, errors }, 'rejected an invalid hook request')
    return reply.code(422).send({ statusCode: 422, code: 'InvalidRequest', error: 'Unprocessable Entity', message: describeErrors(errors), errors })
  }
  const handle = (hook: 'sync' | 'finalize') => async (request: FastifyRequest, reply: FastifyReply) => {
    const validated = validateHookRequest(request.body)
    if (!validated.ok) return invalid(hook, validated.errors, request, reply)
    const { parent } = validated.request
    const log = request.log.child({ parent: `${parent.metadata.namespace}/${parent.metadata.name}`, hook })
    try {
      // The deadline counts from the request's arrival, so time spent receiving the body counts too.
      const deadline = Date.now() - reply.elapsedTime + deps.deadlineMs
      const answer = hook === 'finalize' ? finalize(validated.request, validated.spec, deps) : await sync(validated.request, validated.spec, deps, log, deadline)
      log.debug('answered')
      return await reply.type('application/json; charset=utf-8').send(answerJson(answer))
    } catch (error) {
      if (isHookError(error) && error.code === 'Overloaded') {
        log.warn(error.message)
        return reply
          .code(429)
          .header('retry-after', String(deps.retryAfterSeconds))
          .send({ statusCode: 429, code: error.code, error: 'Too Many Requests', message: error.message })
      }
      throw error
    }
  }
  // Hook bodies are JSON; anything else is answered 415 instead of reaching validation as text.
  app.removeContentTypeParser('text/plain')
  app.addHook('onResponse', async (request, reply) => {
    const hook = request.routeOptions.url === '/finalize' ? 'finalize' : request.routeOptions.url === '/customize' ? 'customize' : 'sync'
    metrics.requestDuration.observe({ hook }, reply.elapsedTime / 1000)
    metrics.requests.inc({ hook, code: String(reply.statusCode) })
    if (reply.statusCode >= 400) request.log.warn({ hook, statusCode: reply.statusCode, ms: reply.elapsedTime }, 'hook call failed')
  })
  app.post('/sync', handle('sync'))
  app.post('/finalize', handle('finalize'))
  app.post('/customize', async (request, reply) => {
    const validated = validateCustomizeRequest(request.body)
    if (!validated.ok) return invalid('customize', validated.errors, request, reply)
    const { name, namespace } = validated.request.parent.metadata
    const answer: CustomizeResponse = { relatedResources: relatedResources({ name, namespace }) }
    return reply.send(answer)
  })
}
