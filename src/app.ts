// buildApp(config) -> a Fastify instance with every route registered. It never listens: server.ts
// owns that, and tests drive the app through inject().
import sensible from '@fastify/sensible'
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { Config } from './config.js'
import { hookRoutes } from './hooks/routes.js'
import { healthPlugin } from './plugins/health.js'
import { createMetrics, metricsPlugin } from './plugins/metrics.js'
import { chartDigest } from './render/chart-digest.js'
import { Renderer } from './render/renderer.js'

export interface AppOptions {
  config: Config
  logger?: FastifyServerOptions['logger']
  /** The clock of condition transitions; the wall clock unless a test fixes it. */
  now?: () => string
}

export async function buildApp({ config, logger, now }: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: logger ?? { level: config.logLevel },
    bodyLimit: config.bodyLimitBytes,
    // One line per failed hook call is logged by the hook routes; successful calls log at debug.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true
  })
  await app.register(sensible)
  // While closing, answer the requests in flight with `Connection: close`: a kept-alive connection
  // would otherwise hold app.close() (and the pod's shutdown) until its keep-alive timeout.
  let closing = false
  app.addHook('preClose', async () => {
    closing = true
  })
  app.addHook('onSend', async (_request, reply) => {
    if (closing) void reply.header('connection', 'close')
  })

  const metrics = createMetrics()
  const renderer = new Renderer(
    {
      helm: { helmBin: config.helmBin, chartPath: config.chartPath, kubeVersion: config.kubeVersion, timeoutMs: config.renderTimeoutMs },
      promtool: { promtoolBin: config.promtoolBin, timeoutMs: config.renderTimeoutMs },
      chartDigest: await chartDigest(config.chartPath),
      cacheMaxEntries: config.cacheMaxEntries,
      cacheMaxBytes: config.cacheMaxBytes,
      concurrency: config.renderConcurrency,
      maxQueue: config.renderMaxQueue
    },
    metrics.observer
  )
  metrics.setCacheEntries(() => renderer.size)

  await app.register(metricsPlugin, { metrics })
  await app.register(healthPlugin, { helmBin: config.helmBin, promtoolBin: config.promtoolBin, timeoutMs: config.renderTimeoutMs })
  await app.register(hookRoutes, {
    deps: { renderer, now: now ?? (() => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')), retryAfterSeconds: config.retryAfterSeconds },
    metrics
  })
  return app
}
