// A Renderer against the real helm and promtool for the render tests, with an observer that counts
// what it sees (processes started and running, cache and promtool lookups, renders by outcome).
import { chartDigest } from '../../src/render/chart-digest.js'
import { Renderer, type RenderObserver, type RendererOptions } from '../../src/render/renderer.js'
import { CHART_PATH, HELM_BIN, PROMTOOL_BIN } from './env.js'

export type CountingObserver = RenderObserver & { counts: Record<string, number>; running: number }

export function countingObserver(): CountingObserver {
  const counts: Record<string, number> = {}
  const bump = (k: string) => (counts[k] = (counts[k] ?? 0) + 1)
  const o = {
    counts,
    running: 0,
    cache: (outcome: string) => bump(`cache:${outcome}`),
    check: (outcome: string) => bump(`check:${outcome}`),
    rendered: (_s: number, outcome: string) => bump(`render:${outcome}`),
    started: (tool: string) => {
      bump(`started:${tool}`)
      o.running++
    },
    exited: () => {
      o.running--
    }
  }
  return o
}

/** Renderer options with small bounds; `over` replaces any of them. */
export async function rendererOptions(over: Partial<RendererOptions> = {}): Promise<RendererOptions> {
  return {
    helm: { helmBin: HELM_BIN, chartPath: CHART_PATH, kubeVersion: '1.35.0', timeoutMs: 8000 },
    promtool: { promtoolBin: PROMTOOL_BIN, timeoutMs: 8000 },
    chartDigest: await chartDigest(CHART_PATH),
    cacheMaxEntries: 100,
    cacheMaxBytes: 10_000_000,
    concurrency: 4,
    maxQueue: 100,
    batchMax: 16,
    batchWaitMs: 0,
    ...over
  }
}

/** A Renderer and its observer; `teardown` (the test's) disposes of its batch charts. */
export async function testRenderer(teardown: (fn: () => void) => void, over: Partial<RendererOptions> = {}, observer = countingObserver()): Promise<{ r: Renderer; observer: CountingObserver }> {
  const r = new Renderer(await rendererOptions(over), observer)
  teardown(() => r.dispose())
  return { r, observer }
}
