// The hook's configuration, read from the environment once at start. Every problem is reported at
// once, naming the variable, and the server does not start with a bad configuration.
import { availableParallelism } from 'node:os'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadTlsConfig, plainHttpHostProblem, type TlsConfig } from './tls.js'

export interface Config {
  host: string
  port: number
  logLevel: string
  helmBin: string
  promtoolBin: string
  chartPath: string
  kubeVersion: string
  /** Limit of one helm or promtool run; below Metacontroller's 10 s webhook timeout. */
  renderTimeoutMs: number
  cacheMaxEntries: number
  cacheMaxBytes: number
  renderConcurrency: number
  renderMaxQueue: number
  /** Most renders of one namespace in one helm run (1: no batches). */
  renderBatchMax: number
  /** While renders are under way, the least time between two helm starts when fewer than renderBatchMax renders wait (0: none). */
  renderBatchWaitMs: number
  /**
   * One deadline per hook call, from its arrival, covering the wait in the render queue and the
   * render: past it the call is answered 429 (the render goes on and is cached for the retry).
   * Below Metacontroller's 10 s webhook timeout, so it gets an answer rather than a timeout.
   */
  hookDeadlineMs: number
  /** Time to receive a whole request (headers and body): a client that sends slowly is cut off. */
  requestTimeoutMs: number
  bodyLimitBytes: number
  /** How soon Metacontroller calls again after a transient failure (helm missing, timeout). */
  retryAfterSeconds: number
  /** Mutual TLS of the hook port (src/tls.ts); undefined: plain HTTP, on loopback unless opted in. */
  tls: TlsConfig | undefined
  /** Plain-HTTP port of /healthz, /readyz and /metrics; undefined: served on the hook's port. */
  opsPort: number | undefined
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`)
    this.name = 'ConfigError'
  }
}

const DEFAULT_CHART_PATH = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'charts', 'prometheus-cluster')
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

/**
 * The largest body Metacontroller can send, with room to spare: every object it carries was
 * stored by the API server, which refuses one over 1.5 MiB (etcd's request limit). A hook body
 * holds the parent (a custom resource, stored as JSON: at most 1.5 MiB) and the children, of which
 * only the ConfigMap can be large (data up to 1 MiB, its last-applied annotation up to 256 KiB,
 * say 1.7 MiB once JSON escapes its newlines and quotes); the rest are a few KiB each.
 */
const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = []
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name]
    if (raw === undefined || raw === '') return fallback
    const value = Number(raw)
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name}=${JSON.stringify(raw)}: must be a whole number from ${min} to ${max}`)
      return fallback
    }
    return value
  }
  const str = (name: string, fallback: string, check?: (v: string) => string | undefined): string => {
    const value = env[name] === undefined || env[name] === '' ? fallback : (env[name] ?? fallback)
    const problem = check?.(value)
    if (problem) problems.push(`${name}=${JSON.stringify(value)}: ${problem}`)
    return value
  }
  const tls = loadTlsConfig(env, problems)
  const config: Config = {
    host: str('HOST', tls ? '0.0.0.0' : '127.0.0.1', (v) => plainHttpHostProblem(v, tls, env)),
    port: int('PORT', 8080, 0, 65535),
    logLevel: str('LOG_LEVEL', 'info', (v) => (LOG_LEVELS.includes(v) ? undefined : `must be one of ${LOG_LEVELS.join(', ')}`)),
    helmBin: str('HELM_BIN', 'helm'),
    promtoolBin: str('PROMTOOL_BIN', 'promtool'),
    chartPath: resolve(str('CHART_PATH', DEFAULT_CHART_PATH)),
    kubeVersion: str('KUBE_VERSION', '1.35.0', (v) => (/^v?1\.[0-9]+\.[0-9]+$/.test(v) ? undefined : 'must be a Kubernetes version such as 1.35.0')),
    renderTimeoutMs: int('RENDER_TIMEOUT_MS', 8000, 100, 9500),
    cacheMaxEntries: int('RENDER_CACHE_ENTRIES', 2000, 1, 1_000_000),
    cacheMaxBytes: int('RENDER_CACHE_BYTES', 64 * 1024 * 1024, 1024, 4 * 1024 * 1024 * 1024),
    renderConcurrency: int('RENDER_CONCURRENCY', Math.max(2, availableParallelism()), 1, 256),
    renderMaxQueue: int('RENDER_MAX_QUEUE', 256, 0, 100_000),
    renderBatchMax: int('RENDER_BATCH_MAX', 16, 1, 64),
    renderBatchWaitMs: int('RENDER_BATCH_WAIT_MS', 400, 0, 2000),
    hookDeadlineMs: int('HOOK_DEADLINE_MS', 9000, 100, 60_000),
    requestTimeoutMs: int('REQUEST_TIMEOUT_MS', 10_000, 100, 300_000),
    bodyLimitBytes: int('BODY_LIMIT_BYTES', DEFAULT_BODY_LIMIT, 1024, 256 * 1024 * 1024),
    retryAfterSeconds: int('RETRY_AFTER_SECONDS', 10, 1, 3600),
    tls,
    // With TLS the kubelet's probes and scrapers, which have no client certificate, need a port of their own.
    opsPort: tls || env.OPS_PORT ? int('OPS_PORT', 8081, 0, 65535) : undefined
  }
  if (config.opsPort !== undefined && config.opsPort !== 0 && config.opsPort === config.port) problems.push(`OPS_PORT=${config.opsPort}: must differ from PORT`)
  if (problems.length > 0) throw new ConfigError(problems)
  return config
}
