// Starts the hook server: configuration from the environment, then listen. With TLS_* set, the hooks
// are served over mutual TLS on PORT (renewed certificate files are picked up without a restart) and
// /healthz, /readyz and /metrics over plain HTTP on OPS_PORT, for the kubelet and scrapers, which
// present no client certificate. Without TLS, one plain-HTTP port serves everything (loopback only
// unless opted in; see src/tls.ts). On SIGTERM or SIGINT stop accepting connections, finish the
// requests in flight, then exit.
import type { Server as HttpsServer } from 'node:https'
import type { TLSSocket } from 'node:tls'
import type { FastifyInstance } from 'fastify'
import { buildApp, createServices } from './app.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import { describeCertificate, httpsOptions, readMaterial, tlsMetrics, watchTlsFiles } from './tls.js'

interface Servers {
  hooks: FastifyInstance
  ops?: FastifyInstance
  stopReload: () => void
}

async function build(config: Config): Promise<Servers> {
  const services = await createServices(config)
  const ops = config.opsPort === undefined ? undefined : await buildApp({ config, services, parts: ['ops'] })
  if (!config.tls) {
    const hooks = await buildApp({ config, services, parts: ops ? ['hooks'] : ['hooks', 'ops'] })
    hooks.log.warn({ host: config.host }, 'no TLS_CERT_FILE, TLS_KEY_FILE, TLS_CLIENT_CA_FILE: serving the hooks over plain HTTP')
    return { hooks, ops, stopReload: () => undefined }
  }
  const tls = config.tls
  const material = await readMaterial(tls)
  const hooks = await buildApp({ config, services, parts: ['hooks'], https: httpsOptions(material) })
  // buildApp types app.server as an HTTP server; with `https` it is an HTTPS one.
  const server = hooks.server as unknown as HttpsServer
  const metrics = tlsMetrics(services.metrics.registry)
  metrics.serving(material.cert)
  server.on('secureConnection', (socket: TLSSocket) => metrics.client(socket.getPeerCertificate().valid_to))
  const stopReload = watchTlsFiles(
    tls,
    material,
    (next) => {
      server.setSecureContext(httpsOptions(next))
      metrics.serving(next.cert)
    },
    hooks.log
  )
  hooks.log.info({ certificate: describeCertificate(material.cert), clientCaFile: tls.clientCaFile, reloadIntervalMs: tls.reloadIntervalMs }, 'serving the hooks over mutual TLS')
  return { hooks, ops, stopReload }
}

async function main(): Promise<void> {
  let config
  try {
    config = loadConfig()
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`)
      process.exit(2)
    }
    throw error
  }
  const { hooks, ops, stopReload } = await build(config)
  let closing = false
  const shutdown = (signal: string) => {
    if (closing) return
    closing = true
    hooks.log.info({ signal }, 'shutting down: finishing requests in flight')
    stopReload()
    Promise.all([hooks.close(), ops?.close()]).then(
      () => process.exit(0),
      (error: unknown) => {
        hooks.log.error({ err: error }, 'error while shutting down')
        process.exit(1)
      }
    )
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
  // The hooks first: their "listening at" line is the first one a caller reads.
  await hooks.listen({ host: config.host, port: config.port })
  if (ops && config.opsPort !== undefined) await ops.listen({ host: config.host, port: config.opsPort })
}

main().catch((error: unknown) => {
  process.stderr.write(`failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exit(1)
})
