// Prometheus metrics of the hook itself, served at GET /metrics: hook calls by outcome and latency,
// sync answers by the reason of their Degraded condition, render time, render cache lookups, and
// helm/promtool processes running and started.
import fp from 'fastify-plugin'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { PrometheusClusterStatus } from '../api/status.js'
import { DEGRADED_REASONS } from '../core/status.js'
import type { RenderObserver } from '../render/renderer.js'

/** The label of a Degraded reason not in DEGRADED_REASONS: the label set stays fixed whatever a status says. */
export const OTHER_REASON = 'Other'

export interface HookMetrics {
  registry: Registry
  requests: Counter<'hook' | 'code'>
  requestDuration: Histogram<'hook'>
  /**
   * Counts one 200 answer to /sync by the reason of the Degraded condition it writes. The hook keeps
   * no state, so this is how Degraded clusters reach an alert: every cluster is synced at least
   * once per resync period, so a Degraded one keeps this counter growing under its reason.
   */
  syncAnswered(status: PrometheusClusterStatus): void
  observer: RenderObserver
  setCacheEntries(read: () => number): void
}

export function createMetrics(): HookMetrics {
  const registry = new Registry()
  // Standard names (process_*, nodejs_*), so stock dashboards and alerts work; the hook's own metrics are pcc_*.
  collectDefaultMetrics({ register: registry })
  const requests = new Counter({ name: 'pcc_hook_requests_total', help: 'Hook calls by hook and HTTP status code.', labelNames: ['hook', 'code'] as const, registers: [registry] })
  const requestDuration = new Histogram({
    name: 'pcc_hook_request_duration_seconds',
    help: 'Time to answer a hook call.',
    labelNames: ['hook'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry]
  })
  const syncAnswers = new Counter({
    name: 'pcc_sync_answers_total',
    help: `Sync answers by the reason of the Degraded condition they write: AsExpected, or why the children were kept as they are (${DEGRADED_REASONS.filter((r) => r !== 'AsExpected').join(', ')}). Calls answered 429 or 5xx write no status and are not counted.`,
    labelNames: ['reason'] as const,
    registers: [registry]
  })
  const renderDuration = new Histogram({
    name: 'pcc_render_duration_seconds',
    help: 'Time of one uncached render (helm template and promtool checks side by side).',
    labelNames: ['outcome'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry]
  })
  const cacheLookups = new Counter({
    name: 'pcc_render_cache_lookups_total',
    help: 'Render cache lookups: hit (cached), shared (joined a render in flight) or miss (rendered).',
    labelNames: ['outcome'] as const,
    registers: [registry]
  })
  const checkLookups = new Counter({
    name: 'pcc_config_check_cache_lookups_total',
    help: 'Lookups of promtool verdicts by configuration and rules text: hit (no promtool run) or miss.',
    labelNames: ['outcome'] as const,
    registers: [registry]
  })
  const running = new Gauge({ name: 'pcc_subprocesses_running', help: 'helm and promtool processes running now.', labelNames: ['tool'] as const, registers: [registry] })
  const started = new Counter({ name: 'pcc_subprocesses_started_total', help: 'helm and promtool processes started.', labelNames: ['tool'] as const, registers: [registry] })
  let readEntries = () => 0
  new Gauge({
    name: 'pcc_render_cache_entries',
    help: 'Renders held in the cache.',
    registers: [registry],
    collect() {
      this.set(readEntries())
    }
  })
  for (const tool of ['helm', 'promtool']) {
    running.set({ tool }, 0)
    started.inc({ tool }, 0)
  }
  for (const outcome of ['hit', 'miss', 'shared']) cacheLookups.inc({ outcome }, 0)
  for (const outcome of ['hit', 'miss']) checkLookups.inc({ outcome }, 0)
  for (const reason of DEGRADED_REASONS) syncAnswers.inc({ reason }, 0)
  const known = new Set<string>(DEGRADED_REASONS)
  return {
    registry,
    requests,
    requestDuration,
    syncAnswered(status) {
      const reason = status.conditions.find((c) => c.type === 'Degraded')?.reason ?? ''
      syncAnswers.inc({ reason: known.has(reason) ? reason : OTHER_REASON })
    },
    observer: {
      cache: (outcome) => cacheLookups.inc({ outcome }),
      check: (outcome) => checkLookups.inc({ outcome }),
      rendered: (seconds, outcome) => renderDuration.observe({ outcome }, seconds),
      started: (tool) => {
        running.inc({ tool })
        started.inc({ tool })
      },
      exited: (tool) => running.dec({ tool })
    },
    setCacheEntries(read) {
      readEntries = read
    }
  }
}

export const metricsPlugin = fp<{ metrics: HookMetrics }>(
  async (app, { metrics }) => {
    app.get('/metrics', async (_request, reply) => {
      void reply.type(metrics.registry.contentType)
      return metrics.registry.metrics()
    })
  },
  { name: 'metrics' }
)
