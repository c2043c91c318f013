// GET /healthz: the process answers. GET /readyz: helm and promtool can run, so a sync can be
// rendered; the answer is kept for a few seconds so probes never pile up processes.
import fp from 'fastify-plugin'
import { helmVersion } from '../render/helm.js'
import { promtoolVersion } from '../render/promtool.js'

export interface HealthOptions {
  helmBin: string
  promtoolBin: string
  timeoutMs: number
  /** How long one readiness result is reused. */
  cacheMs?: number
}

interface Readiness {
  ready: boolean
  checks: Record<string, string>
}

export const healthPlugin = fp<HealthOptions>(
  async (app, options) => {
    const cacheMs = options.cacheMs ?? 10_000
    let last: { at: number; result: Promise<Readiness> } | undefined

    const check = async (): Promise<Readiness> => {
      const [helm, promtool] = await Promise.allSettled([helmVersion(options.helmBin, options.timeoutMs), promtoolVersion(options.promtoolBin, options.timeoutMs)])
      const describe = (r: PromiseSettledResult<string>) => (r.status === 'fulfilled' ? r.value : `unavailable: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`)
      return { ready: helm.status === 'fulfilled' && promtool.status === 'fulfilled', checks: { helm: describe(helm), promtool: describe(promtool) } }
    }

    app.get('/healthz', async () => ({ status: 'ok' }))
    app.get('/readyz', async (request, reply) => {
      const now = Date.now()
      if (!last || now - last.at > cacheMs) last = { at: now, result: check() }
      const readiness = await last.result
      if (!readiness.ready) request.log.warn({ checks: readiness.checks }, 'not ready')
      return reply.code(readiness.ready ? 200 : 503).send({ status: readiness.ready ? 'ready' : 'not ready', checks: readiness.checks })
    })
  },
  { name: 'health' }
)
