// POST /sync and /finalize: Metacontroller's CompositeController hooks. Each route
// declares its body schema through the TypeBox type provider; a body that fails it, and every
// other error, is answered by src/plugins/error-handler.ts. Nothing here ever answers with a set
// of children computed from partial knowledge.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { HookRequest } from '../api/hook-request.js'
import { bodyValidator, validateSpec } from '../api/validate.js'
import type { HookMetrics } from '../plugins/metrics.js'
import { answerJson } from './answer.js'
import { finalize, sync, type ReconcileDeps } from './reconcile.js'

export interface HookRoutesOptions {
  deps: ReconcileDeps
  metrics: HookMetrics
}

const HOOKS = ['sync', 'finalize'] as const

export const hookRoutes: FastifyPluginAsyncTypebox<HookRoutesOptions> = async (app, { deps, metrics }) => {
  app.setValidatorCompiler(({ schema }) => bodyValidator(schema as Parameters<typeof bodyValidator>[0]))
  // Hook bodies are JSON; anything else is answered 415 instead of reaching validation as text.
  app.removeContentTypeParser('text/plain')
  app.addHook('onResponse', async (request, reply) => {
    const hook = HOOKS.find((h) => request.routeOptions.url === `/${h}`) ?? 'sync'
    metrics.requestDuration.observe({ hook }, reply.elapsedTime / 1000)
    metrics.requests.inc({ hook, code: String(reply.statusCode) })
    if (reply.statusCode >= 400) request.log.warn({ hook, statusCode: reply.statusCode, ms: reply.elapsedTime }, 'hook call failed')
  })

  for (const hook of ['sync', 'finalize'] as const) {
    app.post(`/${hook}`, { schema: { body: HookRequest } }, async (request, reply) => {
      const { parent } = request.body
      // Bound only when something is logged: most calls log nothing, and a child logger per call costs.
      const log = () => request.log.child({ parent: `${parent.metadata.namespace}/${parent.metadata.name}`, hook })
      const spec = validateSpec(parent.spec)
      if (spec.ok) parent.spec = spec.spec
      // The deadline counts from the request's arrival, so time spent receiving the body counts too.
      const deadline = Date.now() - reply.elapsedTime + deps.deadlineMs
      const answer = hook === 'finalize' ? finalize(request.body, spec, deps) : await sync(request.body, spec, deps, log, deadline)
      if (hook === 'sync') metrics.syncAnswered(answer.status)
      return reply.type('application/json; charset=utf-8').send(answerJson(answer))
    })
  }
}
