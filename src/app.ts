// buildApp(config) -> a Fastify instance with its routes registered. It never listens: server.ts
// owns that, and tests drive the app through inject(). One app serves everything (plain HTTP on
// loopback, and the tests); with mutual TLS, server.ts builds two apps sharing one metrics registry
// and one renderer: the hooks over HTTPS, the probes and /metrics over plain HTTP.
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { ServerOptions as HttpsServerOptions } from 'node:https'
import type { Config } from './config.js'
import { hookRoutes } from './hooks/routes.js'
import { errorHandler } from './plugins/error-handler.js'
import { healthPlugin } from './plugins/health.js'
import { createMetrics, metricsPlugin, type HookMetrics } from './plugins/metrics.js'
import { chartDigest } from './render/chart-digest.js'
import { promtoolLabel, promtoolVersion } from './render/promtool.js'
import { Renderer } from './render/renderer.js'

/** hooks: POST /sync, /finalize (and every route of src/hooks/routes.ts); ops: /healthz, /readyz, /metrics. */
export type AppPart = 'hooks' | 'ops'

/** What the apps of one process share. */
export interface AppServices {
  metrics: HookMetrics
  renderer: Renderer
  /** The promtool that checks configurations, read once at start, as `promtool <version>`. */
  promtool: string
}

export interface AppOptions {
  config: Config
  logger?: FastifyServerOptions['logger']
  /** The clock of condition transitions; the wall clock unless a test fixes it. */
  now?: () => string
  /** The routes to register; both parts unless told. */
  parts?: readonly AppPart[]
  /** Shared by the apps of one process; made here when absent. */
  services?: AppServices
  /** Serve HTTPS with these options (src/tls.ts httpsOptions) rather than plain HTTP. */
  https?: HttpsServerOptions
}

export async function createServices(config: Config): Promise<AppServices> {
  const metrics = createMetrics()
  const renderer = new Renderer(
    {
      helm: { helmBin: config.helmBin, chartPath: config.chartPath, kubeVersion: config.kubeVersion, timeoutMs: config.renderTimeoutMs },
      promtool: { promtoolBin: config.promtoolBin, timeoutMs: config.renderTimeoutMs },
      chartDigest: await chartDigest(config.chartPath),
      cacheMaxEntries: config.cacheMaxEntries,
      cacheMaxBytes: config.cacheMaxBytes,
      concurrency: config.renderConcurrency,
      maxQueue: config.renderMaxQueue,
      batchMax: config.renderBatchMax,
      batchWaitMs: config.renderBatchWaitMs
    },
    metrics.observer
  )
  metrics.setCacheEntries(() => renderer.size)
  // Without a working promtool the hook is not ready (/readyz) and gets no calls through its Service.
  const promtool = await promtoolVersion(config.promtoolBin, config.renderTimeoutMs).then(promtoolLabel, () => promtoolLabel(''))
  return { metrics, renderer, promtool }
}

/** The wall clock to the second, as conditions record it (2026-01-02T03:04:05Z); formatted once a second, not per call. */
export function wallClockSeconds(clock: () => number = Date.now): () => string {
  let second = NaN
  let text = ''
  return () => {
    const now = Math.floor(clock() / 1000)
    if (now !== second) {
      second = now
      text = new Date(now * 1000).toISOString().replace('.000Z', 'Z')
    }
    return text
  }
}

export async function buildApp({ config, logger, now, parts = ['hooks', 'ops'], services, https }: AppOptions): Promise<FastifyInstance> {
  // A client gets requestTimeoutMs to send a whole request, headers included, checked every
  // second (Node checks every 30 s unless told), so a slow sender cannot hold a connection.
  const serverOptions = { connectionsCheckingInterval: 1000, headersTimeout: config.requestTimeoutMs, requestTimeout: config.requestTimeoutMs }
  const options = {
    logger: logger ?? { level: config.logLevel },
    bodyLimit: config.bodyLimitBytes,
    requestTimeout: config.requestTimeoutMs,
    http: serverOptions,
    // One line per failed hook call is logged by the hook routes; successful calls log at debug.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true
  }
  // The HTTPS instance differs from the HTTP one only in the type of app.server (server.ts reloads its certificate).
  const app = https ? (Fastify({ ...options, https: { ...serverOptions, ...https } }) as unknown as FastifyInstance) : Fastify(options)
  app.setErrorHandler(errorHandler(config.retryAfterSeconds))
  // While closing, answer the requests in flight with `Connection: close`: a kept-alive connection
  // would otherwise hold app.close() (and the pod's shutdown) until its keep-alive timeout.
  let closing = false
  app.addHook('preClose', async () => {
    closing = true
  })
  app.addHook('onSend', async (_request, reply) => {
    if (closing) void reply.header('connection', 'close')
  })

  const { metrics, renderer, promtool } = services ?? (await createServices(config))
  if (parts.includes('ops')) {
    await app.register(metricsPlugin, { metrics })
    await app.register(healthPlugin, { helmBin: config.helmBin, promtoolBin: config.promtoolBin, timeoutMs: config.renderTimeoutMs })
  }
  if (parts.includes('hooks')) {
    await app.register(hookRoutes, {
      deps: { renderer, now: now ?? wallClockSeconds(), retryAfterSeconds: config.retryAfterSeconds, deadlineMs: config.hookDeadlineMs, promtool },
      metrics
    })
  }
  return app
}
