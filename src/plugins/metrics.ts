// Prometheus metrics of the hook itself, served at GET /metrics: hook calls by outcome and latency,
// render time, render cache lookups, and helm/promtool processes running and started.
import fp from 'fastify-plugin'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { RenderObserver } from '../render/renderer.js'

export interface HookMetrics {
  registry: Registry
  requests: Counter<'hook' | 'code'>
  requestDuration: Histogram<'hook'>
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
  return {
    registry,
    requests,
    requestDuration,
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
