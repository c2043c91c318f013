// One hook call: a validated request -> the desired children and the status. The safety rule
// lives here: whatever goes wrong, the answer never drops or shrinks one of the cluster's own
// children; it returns them as Metacontroller last applied them and says what went wrong in the
// status. The answer that changes nothing is built from the hook's own knowledge (src/core/children.ts).
import type { FastifyBaseLogger } from 'fastify'
import type { HookRequest } from '../api/hook-request.js'
import type { PrometheusClusterSpec } from '../api/spec.js'
import { describeErrors, type SpecVerdict } from '../api/validate.js'
import { observedStatefulSet, podsAreGone, retentionOnDelete, unchangedChildren, withStatefulSetStopped, type Owner } from '../core/children.js'
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
  /** How long one hook call may take from its arrival (Config.hookDeadlineMs). */
  deadlineMs: number
  /** The promtool that checks configurations, as `promtool <version>` (for the status). */
  promtool: string
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

function ownerOf(request: HookRequest): Owner {
  return { name: request.parent.metadata.name, namespace: request.parent.metadata.namespace }
}

function specView(verdict: SpecVerdict): PrometheusClusterSpec {
  return verdict.ok ? verdict.spec : verdict.view
}

function statusInput(request: HookRequest, spec: PrometheusClusterSpec, deps: ReconcileDeps): Omit<StatusInput, 'mode'> {
  const { parent } = request
  const owner = ownerOf(request)
  return {
    name: parent.metadata.name,
    generation: parent.metadata.generation ?? 0,
    spec,
    previousConditions: previousConditions(parent.status),
    statefulSet: observedStatefulSet(request.children, owner),
    now: deps.now(),
    promtool: deps.promtool
  }
}

/** `deadline` (a Date.now() time) bounds the wait for a render; see Renderer.render. */
/** `log` gives the request's logger with the parent bound. */
export async function sync(request: HookRequest, verdict: SpecVerdict, deps: ReconcileDeps, log: () => FastifyBaseLogger, deadline?: number): Promise<HookAnswer> {
  const owner = ownerOf(request)
  const base = statusInput(request, specView(verdict), deps)
  if (!verdict.ok) {
    const message = `The spec is not valid: ${describeErrors(verdict.errors)}.`
    log().warn({ errors: verdict.errors }, 'keeping the last applied children: %s', message)
    return { status: clusterStatus({ ...base, mode: 'sync', problem: { code: 'InvalidSpec', message } }), children: unchangedChildren(request.children, owner) }
  }
  const { spec } = verdict
  if (spec.paused === true) {
    return { status: clusterStatus({ ...base, mode: 'paused' }), children: unchangedChildren(request.children, owner) }
  }
  try {
    const { name, namespace } = owner
    const identity = `${name}\0${namespace}\0${JSON.stringify(spec)}`
    const json = await deps.renderer.render(identity, () => {
      const values = chartValues(name, namespace, spec)
      return { release: name, namespace, statefulSetName: clusterNames(name).statefulSet, values, files: { config: values.config, rules: values.rules } }
    }, deadline)
    return { status: clusterStatus({ ...base, mode: 'sync' }), children: { json } }
  } catch (error) {
    // Anything else (a BusyError: 429; a bug: 500) is answered by the error handler and leaves
    // every child untouched.
    if (!isHookError(error)) throw error
    log().warn({ code: error.code, err: error }, 'keeping the last applied children: %s', error.message)
    const response: HookAnswer = {
      status: clusterStatus({ ...base, mode: 'sync', problem: { code: error.code, message: error.message } }),
      children: unchangedChildren(request.children, owner)
    }
    if (error.transient) response.resyncAfterSeconds = deps.retryAfterSeconds
    return response
  }
}

/**
 * Graceful deletion without helm and without needing a valid spec: the cluster's own children as
 * last applied, with the StatefulSet scaled to zero so every server shuts down and flushes its
 * data, and the claim retention the current spec asks for. The finalizer is released only when
 * its pods are gone.
 */
export function finalize(request: HookRequest, verdict: SpecVerdict, deps: ReconcileDeps): HookAnswer {
  const owner = ownerOf(request)
  const base = statusInput(request, specView(verdict), deps)
  return {
    status: clusterStatus({ ...base, mode: 'finalizing' }),
    children: withStatefulSetStopped(unchangedChildren(request.children, owner), clusterNames(owner.name).statefulSet, retentionOnDelete(request.parent.spec)),
    finalized: podsAreGone(base.statefulSet)
  }
}
