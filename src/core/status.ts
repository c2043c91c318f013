// parent + observed StatefulSet -> the PrometheusCluster status. Pure: the time comes in as `now`
// and is only used when a condition changes status, so re-computing an unchanged status gives the
// same bytes and the status write Metacontroller makes does not trigger an endless resync.
import type { PrometheusClusterSpec } from '../api/spec.js'
import type { Condition, ConditionType, PrometheusClusterStatus } from '../api/status.js'
import { ERROR_CODES, type ErrorCode } from './errors.js'
import { selectorString } from './names.js'
import { imageOf } from './values.js'

/** The parts of an observed StatefulSet the status is computed from. */
export interface ObservedStatefulSet {
  metadata: { generation?: number }
  spec?: { replicas?: number; template?: { spec?: { containers?: { name?: string; image?: string }[] } } }
  status?: {
    observedGeneration?: number
    replicas?: number
    readyReplicas?: number
    updatedReplicas?: number
    currentRevision?: string
    updateRevision?: string
  }
}

export interface StatusInput {
  name: string
  generation: number
  spec: PrometheusClusterSpec
  previousConditions: readonly Partial<Condition>[]
  statefulSet: ObservedStatefulSet | undefined
  /** Why the desired children could not be computed, if they could not. */
  problem?: { code: ErrorCode; message: string }
  mode: 'sync' | 'paused' | 'finalizing'
  /** RFC 3339 time, used only for conditions whose status changes. */
  now: string
  /** The promtool that checks configurations, as `promtool <version>`. */
  promtool: string
}

type Verdict = Pick<Condition, 'status' | 'reason' | 'message'>

/**
 * Every reason the Degraded condition can give: AsExpected, or the code of what kept the children
 * as they were. A fixed set, decided here and in errors.ts, never by the resource: metrics label by it.
 */
export const DEGRADED_REASONS = ['AsExpected', ...ERROR_CODES.filter((code) => code !== 'InvalidRequest')] as const

/** The image of the StatefulSet's prometheus container, if the StatefulSet says. */
function runningImage(sts: ObservedStatefulSet | undefined): string | undefined {
  return sts?.spec?.template?.spec?.containers?.find((c) => c.name === 'prometheus')?.image
}

function rollout(input: StatusInput): { ready: Verdict; progressing: Verdict } {
  const sts = input.statefulSet
  const desired = input.mode === 'finalizing' ? 0 : input.spec.replicas
  if (!sts) {
    const waiting = { status: 'False', reason: 'Creating', message: 'Waiting for the StatefulSet to be created.' } as const
    return { ready: waiting, progressing: { ...waiting, status: 'True' } }
  }
  const s = sts.status ?? {}
  const replicas = s.replicas ?? 0
  const ready = s.readyReplicas ?? 0
  const updated = s.updatedReplicas ?? 0
  const observed = (s.observedGeneration ?? 0) >= (sts.metadata.generation ?? 0)
  const scaled = (sts.spec?.replicas ?? 1) === desired && replicas === desired
  const image = runningImage(sts)
  const imageCurrent = input.mode !== 'sync' || image === undefined || image === imageOf(input.spec)
  const revisionCurrent = desired === 0 || (updated >= desired && (s.currentRevision === undefined || s.currentRevision === s.updateRevision))
  const done = observed && scaled && imageCurrent && revisionCurrent && ready >= desired

  if (input.mode === 'finalizing') {
    return {
      ready: { status: 'False', reason: 'Terminating', message: `The cluster is being deleted: ${replicas} pod(s) still running.` },
      progressing: done
        ? { status: 'False', reason: 'Terminated', message: 'Every pod is gone; the data volumes follow the retention policy.' }
        : { status: 'True', reason: 'Terminating', message: `Scaling to zero so every server can flush its data: ${replicas} pod(s) left.` }
    }
  }
  const readyVerdict: Verdict =
    desired === 0 && replicas === 0
      ? { status: 'True', reason: 'ScaledToZero', message: 'Scaled to zero replicas; the data volumes are kept.' }
      : done
        ? { status: 'True', reason: 'AllReplicasReady', message: `${ready} of ${desired} replicas are ready.` }
        : { status: 'False', reason: 'ReplicasNotReady', message: `${ready} of ${desired} replicas are ready.` }
  let progressing: Verdict
  if (input.mode === 'paused') {
    progressing = { status: 'False', reason: 'Paused', message: 'spec.paused is true: the child objects are left exactly as they are.' }
  } else if (done) {
    progressing = { status: 'False', reason: 'RolloutComplete', message: 'Every replica runs the current specification.' }
  } else if (!scaled) {
    progressing = { status: 'True', reason: 'Scaling', message: `Scaling from ${replicas} to ${desired} replicas.` }
  } else {
    progressing = { status: 'True', reason: 'RollingUpdate', message: `${updated} of ${desired} replicas run the current specification; ${ready} are ready.` }
  }
  return { ready: readyVerdict, progressing }
}

function degraded(input: StatusInput): Verdict {
  return input.problem
    ? { status: 'True', reason: input.problem.code, message: `${input.problem.message} The running servers keep their last applied configuration.` }
    : { status: 'False', reason: 'AsExpected', message: 'The specification was rendered and checked.' }
}

function condition(type: ConditionType, verdict: Verdict, input: StatusInput): Condition {
  const previous = input.previousConditions.find((c) => c.type === type)
  const lastTransitionTime = previous?.status === verdict.status && typeof previous.lastTransitionTime === 'string' ? previous.lastTransitionTime : input.now
  return { type, ...verdict, lastTransitionTime, observedGeneration: input.generation }
}

export function clusterStatus(input: StatusInput): PrometheusClusterStatus {
  const { ready, progressing } = rollout(input)
  const s = input.statefulSet?.status ?? {}
  return {
    replicas: s.replicas ?? 0,
    readyReplicas: s.readyReplicas ?? 0,
    updatedReplicas: s.updatedReplicas ?? 0,
    selector: selectorString(input.name),
    version: input.spec.version,
    image: runningImage(input.statefulSet) ?? imageOf(input.spec),
    promtool: input.promtool,
    conditions: [condition('Ready', ready, input), condition('Progressing', progressing, input), condition('Degraded', degraded(input), input)]
  }
}
