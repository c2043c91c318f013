// Renders a cluster's children: helm template and the promtool checks run side by side, results are
// cached by a digest of the chart and the values (bounded in memory), identical renders in flight
// share one run, and the number of renders running at once is limited.
import { createHash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import pLimit from 'p-limit'
import { BusyError, HookError, isHookError } from '../core/errors.js'
import type { PrometheusFiles } from '../core/prometheus-config.js'
import type { ChartValues } from '../api/chart-values.js'
import { helmTemplate, type HelmOptions } from './helm.js'
import { parseChildren } from './parse.js'
import { checkPrometheusFiles, type PromtoolOptions } from './promtool.js'
import type { ProcessObserver } from './subprocess.js'

export interface RendererOptions {
  helm: HelmOptions
  promtool: PromtoolOptions
  chartDigest: string
  cacheMaxEntries: number
  cacheMaxBytes: number
  concurrency: number
  /** Renders allowed to wait for a slot; more fail with a BusyError. */
  maxQueue: number
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
  private readonly limit: ReturnType<typeof pLimit>
  /** Renders running or waiting for a slot. */
  private outstanding = 0

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
    this.limit = pLimit(options.concurrency)
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
        this.outstanding++
        const waiting = { deadline }
        const result = this.limit(() => (Date.now() < waiting.deadline ? this.renderUncached(build) : Promise.resolve(abandoned)))
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
      }
      entry = await withDeadline(pending.result, deadline)
    }
    if (!entry.ok) throw entry.error
    return entry.childrenJson
  }

  private async renderUncached(build: () => RenderInput): Promise<Entry> {
    const started = performance.now()
    let input: RenderInput
    try {
      input = build()
    } catch (error) {
      return this.failed(error, started)
    }
    const [helm, check] = await Promise.allSettled([helmTemplate(input.release, input.namespace, input.values, this.options.helm, this.observer), this.check(input.files)])
    try {
      if (check.status === 'rejected') throw check.reason
      if (helm.status === 'rejected') throw helm.reason
      const childrenJson = JSON.stringify(parseChildren(helm.value, input.statefulSetName))
      this.observer?.rendered((performance.now() - started) / 1000, 'ok')
      return { ok: true, childrenJson }
    } catch (error) {
      return this.failed(error, started)
    }
  }

  /** Resolves when promtool accepts the files (asking it only for text it has not judged). */
  private async check(files: RenderInput['files']): Promise<void> {
    const key = createHash('sha256').update(files.config).update('\0').update(files.rules).digest('hex')
    let verdict = this.verdicts.get(key)
    this.observer?.check(verdict ? 'hit' : 'miss')
    if (!verdict) {
      try {
        await checkPrometheusFiles(files, this.options.promtool, this.observer)
        verdict = { ok: true }
      } catch (error) {
        if (!isHookError(error) || error.transient) throw error
        verdict = { ok: false, error }
      }
      this.verdicts.set(key, verdict)
    }
    if (!verdict.ok) throw verdict.error
  }

  private failed(error: unknown, started: number): Entry {
    this.observer?.rendered((performance.now() - started) / 1000, 'error')
    if (isHookError(error)) return { ok: false, error }
    return { ok: false, error: new HookError('RenderFailed', `render failed: ${String(error)}`, { transient: true, cause: error }) }
  }

  get size(): number {
    return this.cache.size
  }
}
