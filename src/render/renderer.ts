// Renders a cluster's children: helm template and the promtool checks run side by side, results are
// cached by a digest of the chart and the values (bounded in memory), identical renders in flight
// share one run, and the number of helm runs at once is limited. A render that gets a slot takes
// the renders waiting behind it for the same namespace along, up to batchMax, into one helm run
// (src/render/batch.ts): a burst of new clusters costs a few helm starts instead of one each.
// A render that finds no other render under way starts at once; renders that come while others
// are under way gather: helm runs then start at most one per batchWaitMs, unless batchMax wait.
import { createHash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { BusyError, HookError, isHookError } from '../core/errors.js'
import type { PrometheusFiles } from '../core/prometheus-config.js'
import type { ChartValues } from '../api/chart-values.js'
import { splitBatchOutput, UmbrellaCharts } from './batch.js'
import { helmTemplate, helmTemplateBatch, type HelmOptions } from './helm.js'
import { parseChildren } from './parse.js'
import { checkPrometheusFiles, type PromtoolOptions } from './promtool.js'
import type { ProcessObserver } from './subprocess.js'

export interface RendererOptions {
  helm: HelmOptions
  promtool: PromtoolOptions
  chartDigest: string
  cacheMaxEntries: number
  cacheMaxBytes: number
  /** helm runs at once. */
  concurrency: number
  /** Renders allowed to wait for a slot; more fail with a BusyError. */
  maxQueue: number
  /** Most renders in one helm run (1: one run per render). */
  batchMax: number
  /**
   * While renders are under way, the least time between the starts of two helm runs when fewer
   * than batchMax renders wait (0: a run starts whenever a slot is free). A render that finds no
   * other render running or waiting is never delayed.
   */
  batchWaitMs: number
}

export interface RenderObserver extends ProcessObserver {
  cache(outcome: 'hit' | 'miss' | 'shared'): void
  /** promtool's verdict on a configuration and rules text: known already (hit) or asked for (miss). */
  check(outcome: 'hit' | 'miss'): void
  rendered(seconds: number, outcome: 'ok' | 'error'): void
}

export interface RenderInput {
  release: string
  namespace: string
  statefulSetName: string
  values: ChartValues
  files: PrometheusFiles
}

/**
 * A finished render: the children as JSON text, or the error a retry of the same input would give
 * again. Text, not objects: it is what every response carries, and a fifth of the memory.
 */
type Entry = { ok: true; childrenJson: string } | { ok: false; error: HookError | BusyError }

/** A render started or waiting for a slot, and the latest deadline of the requests waiting for it. */
interface Pending {
  result: Promise<Entry>
  waiting: { deadline: number }
}

/** A render waiting for a slot: its input is built once, when a batch is formed. */
interface Job {
  build: () => RenderInput
  input?: { ok: true; value: RenderInput } | { ok: false; error: unknown }
  waiting: { deadline: number }
  resolve: (entry: Entry) => void
}

type Built = Job & { input: { ok: true; value: RenderInput } }

const abandoned: Entry = { ok: false, error: new BusyError('every request waiting for this render has gone') }

/** `result`, or a BusyError once `deadline` has passed. */
async function withDeadline(result: Promise<Entry>, deadline: number): Promise<Entry> {
  const ms = deadline - Date.now()
  if (!Number.isFinite(ms)) return result
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<Entry>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, error: new BusyError('the render did not finish within the hook call\'s deadline; it goes on and is cached for the next call') }), Math.max(0, ms))
  })
  try {
    return await Promise.race([result, expired])
  } finally {
    clearTimeout(timer)
  }
}

export class Renderer {
  private readonly cache: LRUCache<string, Entry>
  private readonly inFlight = new Map<string, Pending>()
  /**
   * promtool's verdicts by digest of the configuration and rules text. Most edits (replicas,
   * resources, image) leave that text as it was, and then need no promtool run.
   */
  private readonly verdicts: LRUCache<string, { ok: true } | { ok: false; error: HookError }>
  /** promtool runs in flight by the same digest: clusters with the same text share one. */
  private readonly checking = new Map<string, Promise<void>>()
  private readonly umbrellas: UmbrellaCharts
  /** Renders waiting for a slot, oldest first. */
  private readonly queue: Job[] = []
  /** helm runs (single or batched) in progress. */
  private running = 0
  /** Renders running or waiting for a slot. */
  private outstanding = 0
  /** When the last helm run started (performance.now()). */
  private lastStart = Number.NEGATIVE_INFINITY
  /** The pump waiting for batchWaitMs to pass since the last start. */
  private delayed: NodeJS.Timeout | undefined

  constructor(
    private readonly options: RendererOptions,
    private readonly observer?: RenderObserver
  ) {
    this.cache = new LRUCache<string, Entry>({
      max: options.cacheMaxEntries,
      maxSize: options.cacheMaxBytes,
      sizeCalculation: (entry) => (entry.ok ? entry.childrenJson.length : entry.error.message.length) + 1
    })
    this.verdicts = new LRUCache({ max: options.cacheMaxEntries })
    this.umbrellas = new UmbrellaCharts(options.helm.chartPath)
  }

  /** The cache key: a digest of the chart and of everything the render input is computed from. */
  key(identity: string): string {
    return createHash('sha256').update(this.options.chartDigest).update('\0').update(identity).digest('hex')
  }

  /**
   * The children for the input `build` computes; `identity` must determine that input completely
   * (it is hashed into the cache key), so `build` runs only on a cache miss. Resolves to the
   * children as a JSON array; rejects with a HookError (or a BusyError, below).
   *
   * `deadline` (a Date.now() time) bounds the wait, in the queue and for the render: past it the
   * call rejects with a BusyError (answered 429: the caller is asked to come back).
   * A render that is still running goes on and is cached for that retry; one that has not started
   * when every request waiting for it has gone is not started at all.
   */
  async render(identity: string, build: () => RenderInput, deadline = Number.POSITIVE_INFINITY): Promise<string> {
    const key = this.key(identity)
    const cached = this.cache.get(key)
    let entry: Entry
    if (cached) {
      this.observer?.cache('hit')
      entry = cached
    } else {
      let pending = this.inFlight.get(key)
      if (pending) {
        this.observer?.cache('shared')
        pending.waiting.deadline = Math.max(pending.waiting.deadline, deadline)
      } else {
        this.observer?.cache('miss')
        if (this.outstanding >= this.options.concurrency + this.options.maxQueue) {
          throw new BusyError(`${this.outstanding - this.options.concurrency} renders are already waiting; try again shortly`)
        }
        const alone = this.outstanding === 0
        this.outstanding++
        const waiting = { deadline }
        let resolve: (entry: Entry) => void = () => undefined
        const result = new Promise<Entry>((r) => (resolve = r))
          .then((result) => {
            // Cached before it leaves inFlight, so no request in between starts a second render.
            if (result.ok || (isHookError(result.error) && !result.error.transient)) this.cache.set(key, result)
            return result
          })
          .finally(() => {
            this.outstanding--
            this.inFlight.delete(key)
          })
        pending = { result, waiting }
        this.inFlight.set(key, pending)
        this.queue.push({ build, waiting, resolve })
        this.pump(alone)
      }
      entry = await withDeadline(pending.result, deadline)
    }
    if (!entry.ok) throw entry.error
    return entry.childrenJson
  }

  /**
   * Starts helm runs while there are slots and renders waiting: at once for a render that came
   * `alone`, when batchMax renders wait, or when batchWaitMs has passed since the last start;
   * otherwise when it will have.
   */
  private pump(alone = false): void {
    while (this.running < this.options.concurrency && this.queue.length > 0) {
      const wait = this.lastStart + this.options.batchWaitMs - performance.now()
      if (!alone && wait > 0 && this.queue.length < this.options.batchMax) {
        this.delayed ??= setTimeout(() => {
          this.delayed = undefined
          this.pump()
        }, wait)
        return
      }
      const batch = this.takeBatch()
      if (batch.length === 0) continue
      this.lastStart = performance.now()
      this.running++
      void this.renderJobs(batch).finally(() => {
        this.running--
        this.pump()
      })
    }
    if (this.queue.length === 0 && this.delayed !== undefined) {
      clearTimeout(this.delayed)
      this.delayed = undefined
    }
  }

  /**
   * The oldest waiting render and those behind it for the same namespace, up to batchMax. A render
   * whose every caller has gone is dropped unstarted; one whose input cannot be built goes alone.
   */
  private takeBatch(): Job[] {
    const now = Date.now()
    const live = (job: Job): boolean => {
      if (now < job.waiting.deadline) return true
      job.resolve(abandoned)
      return false
    }
    const head = this.queue.shift()
    if (head === undefined || !live(head)) return []
    const built = buildOf(head)
    if (!built.ok) return [head]
    const namespace = built.value.namespace
    const batch: Job[] = [head]
    for (let i = 0; i < this.queue.length && batch.length < this.options.batchMax; ) {
      const job = this.queue[i] as Job
      if (!live(job)) {
        this.queue.splice(i, 1)
      } else if (sameNamespace(buildOf(job), namespace)) {
        this.queue.splice(i, 1)
        batch.push(job)
      } else {
        i++
      }
    }
    return batch
  }

  /** Renders the jobs, in one helm run when there are several, and resolves each. */
  private async renderJobs(jobs: Job[]): Promise<void> {
    const started = performance.now()
    const [first] = jobs
    if (jobs.length > 1) {
      const entries = await this.renderBatch(jobs as Built[], started).catch(() => undefined)
      if (entries) {
        jobs.forEach((job, i) => job.resolve(entries[i] ?? this.failed(new Error('no result'), started)))
        return
      }
    } else if (first) {
      first.resolve(await this.renderOne(first, started))
      return
    }
    // The batch said nothing about its members (a deterministic helm failure: which of them caused
    // it, only their own runs can say; or its output or its chart went wrong): each alone.
    for (const job of jobs) job.resolve(await this.renderOne(job, performance.now()))
  }

  /** One helm run for `jobs` (all built, one namespace): each job's entry, or undefined when only separate runs can tell. */
  private async renderBatch(jobs: Built[], started: number): Promise<Entry[] | undefined> {
    const inputs = jobs.map((job) => job.input.value)
    const namespace = inputs[0]?.namespace ?? ''
    const [helm, checks] = await Promise.all([
      helmTemplateBatch(this.umbrellas.path(inputs.length), namespace, inputs.map((i) => i.values), this.options.helm, this.observer).then(
        (output) => ({ ok: true as const, output }),
        (error: unknown) => ({ ok: false as const, error })
      ),
      Promise.allSettled(inputs.map((input) => this.check(input.files)))
    ])
    if (!helm.ok) {
      if (isHookError(helm.error) && !helm.error.transient) return undefined
      // helm missing, killed or too slow: the same for each of them, and tried again later.
      return jobs.map(() => this.failed(helm.error, started))
    }
    const parts = splitBatchOutput(helm.output, inputs.length)
    return jobs.map((job, i) => {
      const check = checks[i]
      try {
        if (check?.status === 'rejected') throw check.reason
        return this.succeeded(parseChildren(parts[i] ?? '', job.input.value.statefulSetName), started)
      } catch (error) {
        return this.failed(error, started)
      }
    })
  }

  private async renderOne(job: Job, started: number): Promise<Entry> {
    const built = buildOf(job)
    if (!built.ok) return this.failed(built.error, started)
    const input = built.value
    const [helm, check] = await Promise.allSettled([helmTemplate(input.release, input.namespace, input.values, this.options.helm, this.observer), this.check(input.files)])
    try {
      if (check.status === 'rejected') throw check.reason
      if (helm.status === 'rejected') throw helm.reason
      return this.succeeded(parseChildren(helm.value, input.statefulSetName), started)
    } catch (error) {
      return this.failed(error, started)
    }
  }

  /** Resolves when promtool accepts the files (asking it only for text it has not judged, once for renders that ask at the same time). */
  private async check(files: RenderInput['files']): Promise<void> {
    const key = createHash('sha256').update(files.config).update('\0').update(files.rules).digest('hex')
    const verdict = this.verdicts.get(key)
    this.observer?.check(verdict ? 'hit' : 'miss')
    if (verdict) {
      if (!verdict.ok) throw verdict.error
      return
    }
    let running = this.checking.get(key)
    if (!running) {
      running = checkPrometheusFiles(files, this.options.promtool, this.observer).then(
        () => void this.verdicts.set(key, { ok: true }),
        (error: unknown) => {
          if (isHookError(error) && !error.transient) this.verdicts.set(key, { ok: false, error })
          throw error
        }
      )
      const cleared = () => void this.checking.delete(key)
      running.then(cleared, cleared)
      this.checking.set(key, running)
    }
    return running
  }

  private succeeded(children: unknown[], started: number): Entry {
    this.observer?.rendered((performance.now() - started) / 1000, 'ok')
    return { ok: true, childrenJson: JSON.stringify(children) }
  }

  private failed(error: unknown, started: number): Entry {
    this.observer?.rendered((performance.now() - started) / 1000, 'error')
    if (isHookError(error)) return { ok: false, error }
    return { ok: false, error: new HookError('RenderFailed', `render failed: ${String(error)}`, { transient: true, cause: error }) }
  }

  get size(): number {
    return this.cache.size
  }

  /** Removes the batch charts written under the temporary directory. */
  dispose(): void {
    this.umbrellas.dispose()
  }
}

/** The job's input, built on first asking (a failure to build is kept as the render's result). */
function buildOf(job: Job): NonNullable<Job['input']> {
  if (job.input === undefined) {
    try {
      job.input = { ok: true, value: job.build() }
    } catch (error) {
      job.input = { ok: false, error }
    }
  }
  return job.input
}

function sameNamespace(input: NonNullable<Job['input']>, namespace: string): boolean {
  return input.ok && input.value.namespace === namespace
}
