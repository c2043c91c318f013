// One hook call: a validated request -> the desired children and the status. The safety rule
// lives here: whatever goes wrong, the answer never drops or shrinks an observed child; it returns
// the children as Metacontroller last applied them and says what went wrong in the status.
import type { FastifyBaseLogger } from 'fastify'
import type { HookRequest } from '../api/hook-request.js'
import { observedStatefulSet, podsAreGone, unchangedChildren, withStatefulSetScaledToZero } from '../core/children.js'
import { isHookError } from '../core/errors.js'
import { clusterNames } from '../core/names.js'
import { chartValues } from '../core/values.js'
import { clusterStatus, type StatusInput } from '../core/status.js'
import type { Renderer } from '../render/renderer.js'
import type { HookAnswer } from './answer.js'

export interface ReconcileDeps {
  renderer: Renderer
  /** The current time in RFC 3339; only used for conditions that change. */
  now: () => string
  retryAfterSeconds: number
}

/** The well-formed conditions of the status the hook wrote last time. */
function previousConditions(status: unknown): StatusInput['previousConditions'] {
  const conditions = (status as { conditions?: unknown } | null | undefined)?.conditions
  if (!Array.isArray(conditions)) return []
  return conditions.filter(
    (c): c is StatusInput['previousConditions'][number] =>
      typeof c === 'object' && c !== null && typeof (c as Record<string, unknown>).type === 'string' && typeof (c as Record<string, unknown>).lastTransitionTime === 'string'
  )
}

function statusInput(request: HookRequest, deps: ReconcileDeps): Omit<StatusInput, 'mode'> {
  const { parent } = request
  return {
    name: parent.metadata.name,
    generation: parent.metadata.generation ?? 0,
    spec: parent.spec,
    previousConditions: previousConditions(parent.status),
    statefulSet: observedStatefulSet(request.children, clusterNames(parent.metadata.name).statefulSet),
    now: deps.now()
  }
}

export async function sync(request: HookRequest, deps: ReconcileDeps, log: FastifyBaseLogger): Promise<HookAnswer> {
  const { parent } = request
  const { name, namespace } = parent.metadata
  const base = statusInput(request, deps)
  if (parent.spec.paused === true) {
    return { status: clusterStatus({ ...base, mode: 'paused' }), children: unchangedChildren(request.children) }
  }
  try {
    const identity = `${name}\0${namespace}\0${JSON.stringify(parent.spec)}`
    const json = await deps.renderer.render(identity, () => {
      const values = chartValues(name, namespace, parent.spec)
      return { release: name, namespace, statefulSetName: clusterNames(name).statefulSet, values, files: { config: values.config, rules: values.rules } }
    })
    return { status: clusterStatus({ ...base, mode: 'sync' }), children: { json } }
  } catch (error) {
    // Overload is answered with 429 by the route; anything that is not a HookError is a bug and
    // answered with 500. Both leave every child untouched.
    if (!isHookError(error) || error.code === 'Overloaded') throw error
    log.warn({ code: error.code, err: error }, 'keeping the last applied children: %s', error.message)
    const response: HookAnswer = {
      status: clusterStatus({ ...base, mode: 'sync', problem: { code: error.code, message: error.message } }),
      children: unchangedChildren(request.children)
    }
    if (error.transient) response.resyncAfterSeconds = deps.retryAfterSeconds
    return response
  }
}

/**
 * Graceful deletion without helm: the children as last applied, with the StatefulSet scaled to
 * zero so every server shuts down and flushes its data; the finalizer is released only when its
 * pods are gone. The claims stay or go by the StatefulSet's retention policy.
 */
export function finalize(request: HookRequest, deps: ReconcileDeps): HookAnswer {
  const base = statusInput(request, deps)
  const stsName = clusterNames(request.parent.metadata.name).statefulSet
  const finalized = podsAreGone(base.statefulSet)
  return {
    status: clusterStatus({ ...base, mode: 'finalizing' }),
    children: withStatefulSetScaledToZero(unchangedChildren(request.children), stsName),
    finalized
  }
}
