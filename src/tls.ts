// Mutual TLS of the hook port: the configuration (TLS_CERT_FILE, TLS_KEY_FILE, TLS_CLIENT_CA_FILE,
// read and checked once at start by loadConfig), the options of the HTTPS server that refuses, at
// the handshake, every client without a certificate signed by the client CA, and the reload of
// renewed files without a restart.
//
// Kubernetes updates a mounted Secret by swapping a symlink (`..data`), which fs.watch on the file
// misses, so the files are read again every TLS_RELOAD_INTERVAL_MS and compared by content.
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createSecureContext, type TlsOptions } from 'node:tls'
import { Gauge, type Registry } from 'prom-client'

export interface TlsConfig {
  certFile: string
  keyFile: string
  /** CA bundle that signs the certificates of the only clients admitted (Metacontroller's). */
  clientCaFile: string
  reloadIntervalMs: number
}

/** What the hook serves with: PEM text of the three files. */
export interface TlsMaterial {
  cert: string
  key: string
  ca: string
}

export const TLS_VARIABLES = ['TLS_CERT_FILE', 'TLS_KEY_FILE', 'TLS_CLIENT_CA_FILE'] as const
/** Without TLS the hook serves plain HTTP, and only on a loopback address unless this is "true". */
export const PLAIN_HTTP_OPT_IN = 'PLAIN_HTTP_ANY_ADDRESS'

/**
 * The TLS part of the configuration: all three files or none. Each problem is pushed to `problems`
 * naming its variable; the files must be readable and hold a certificate, its key and a CA.
 */
export function loadTlsConfig(env: NodeJS.ProcessEnv, problems: string[]): TlsConfig | undefined {
  const set = TLS_VARIABLES.filter((name) => env[name] !== undefined && env[name] !== '')
  const intervalRaw = env.TLS_RELOAD_INTERVAL_MS
  let reloadIntervalMs = 10_000
  if (intervalRaw !== undefined && intervalRaw !== '') {
    const value = Number(intervalRaw)
    if (!Number.isInteger(value) || value < 100 || value > 3_600_000) {
      problems.push(`TLS_RELOAD_INTERVAL_MS=${JSON.stringify(intervalRaw)}: must be a whole number from 100 to 3600000`)
    } else reloadIntervalMs = value
  }
  if (set.length === 0) return undefined
  if (set.length < TLS_VARIABLES.length) {
    const missing = TLS_VARIABLES.filter((name) => !set.includes(name))
    problems.push(`${missing.join(', ')}: must be set with ${set.join(', ')} (mutual TLS needs the certificate, its key and the client CA)`)
    return undefined
  }
  const config: TlsConfig = { certFile: env.TLS_CERT_FILE ?? '', keyFile: env.TLS_KEY_FILE ?? '', clientCaFile: env.TLS_CLIENT_CA_FILE ?? '', reloadIntervalMs }
  const read = (name: string, path: string): string | undefined => {
    try {
      return readFileSync(path, 'utf8')
    } catch (error) {
      problems.push(`${name}=${JSON.stringify(path)}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`)
      return undefined
    }
  }
  const cert = read('TLS_CERT_FILE', config.certFile)
  const key = read('TLS_KEY_FILE', config.keyFile)
  const ca = read('TLS_CLIENT_CA_FILE', config.clientCaFile)
  if (cert === undefined || key === undefined || ca === undefined) return undefined
  const problem = checkMaterial({ cert, key, ca })
  if (problem) problems.push(`${problem.variable}=${JSON.stringify(env[problem.variable])}: ${problem.message}`)
  return problem ? undefined : config
}

/** The problem with a set of files, naming the variable of the file at fault, or undefined. */
export function checkMaterial(material: TlsMaterial): { variable: (typeof TLS_VARIABLES)[number]; message: string } | undefined {
  const blocks = (pem: string) => pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
  const certs = blocks(material.cert)
  if (certs.length === 0) return { variable: 'TLS_CERT_FILE', message: 'holds no PEM certificate' }
  try {
    for (const pem of certs) new X509Certificate(pem)
  } catch (error) {
    return { variable: 'TLS_CERT_FILE', message: `holds a certificate that does not parse: ${(error as Error).message}` }
  }
  const cas = blocks(material.ca)
  if (cas.length === 0) return { variable: 'TLS_CLIENT_CA_FILE', message: 'holds no PEM certificate' }
  try {
    if (!cas.map((pem) => new X509Certificate(pem)).some((c) => c.ca)) return { variable: 'TLS_CLIENT_CA_FILE', message: 'holds no CA certificate (basicConstraints CA:TRUE)' }
  } catch (error) {
    return { variable: 'TLS_CLIENT_CA_FILE', message: `holds a certificate that does not parse: ${(error as Error).message}` }
  }
  try {
    createSecureContext(material)
  } catch (error) {
    return { variable: 'TLS_KEY_FILE', message: `is not the private key of the certificate in TLS_CERT_FILE, or does not parse: ${(error as Error).message}` }
  }
  return undefined
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}

/**
 * Why HOST is refused for plain HTTP, or undefined. Without TLS anyone who reaches the port could
 * call the hook, so plain HTTP listens on loopback only unless PLAIN_HTTP_ANY_ADDRESS=true.
 */
export function plainHttpHostProblem(host: string, tls: TlsConfig | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (tls || isLoopback(host) || env[PLAIN_HTTP_OPT_IN] === 'true') return undefined
  return `plain HTTP (no ${TLS_VARIABLES.join(', ')}) is served on a loopback address only: set the TLS files, a loopback HOST, or ${PLAIN_HTTP_OPT_IN}=true`
}

export async function readMaterial(config: TlsConfig): Promise<TlsMaterial> {
  const [cert, key, ca] = await Promise.all([readFile(config.certFile, 'utf8'), readFile(config.keyFile, 'utf8'), readFile(config.clientCaFile, 'utf8')])
  return { cert, key, ca }
}

/**
 * Options of the hook's HTTPS server: its certificate, and clients admitted only with a
 * certificate signed by the client CA (checked during the handshake, before any HTTP). A handshake
 * not finished in 10 s (Metacontroller's whole call timeout) is dropped rather than held for
 * Node's default 120 s.
 */
export function httpsOptions(material: TlsMaterial): TlsOptions & { requestCert: true; rejectUnauthorized: true } {
  return { ...material, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2', handshakeTimeout: 10_000 }
}

/** A short description of a certificate for logs. */
export function describeCertificate(pem: string): { subject: string; serial: string; notAfter: string } {
  const cert = new X509Certificate(pem)
  return { subject: cert.subject.replaceAll('\n', ', '), serial: cert.serialNumber, notAfter: cert.validTo }
}

export interface ReloadLog {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}

/**
 * Every `reloadIntervalMs`, reads the files again; when their content differs from what is served
 * and they make a valid set, hands them to `apply` (the HTTPS server's setSecureContext). A set
 * that does not parse is logged and the current one kept. Returns the function that stops it.
 */
export function watchTlsFiles(config: TlsConfig, served: TlsMaterial, apply: (material: TlsMaterial) => void, log: ReloadLog): () => void {
  let current = served
  let lastRefused: TlsMaterial | undefined
  const same = (a: TlsMaterial, b: TlsMaterial | undefined) => b !== undefined && a.cert === b.cert && a.key === b.key && a.ca === b.ca
  let running = false
  const tick = async () => {
    if (running) return
    running = true
    try {
      const next = await readMaterial(config)
      if (same(next, current) || same(next, lastRefused)) return
      const problem = checkMaterial(next)
      if (problem) {
        lastRefused = next
        log.warn({ variable: problem.variable, problem: problem.message }, 'renewed TLS files refused: still serving the previous certificate')
        return
      }
      apply(next)
      current = next
      lastRefused = undefined
      log.info({ certificate: describeCertificate(next.cert) }, 'TLS certificate reloaded')
    } catch (error) {
      // A file missing for a moment (mid-swap) or unreadable: keep serving, try again next time.
      log.warn({ err: error }, 'cannot read the TLS files: still serving the previous certificate')
    } finally {
      running = false
    }
  }
  const timer = setInterval(() => void tick(), config.reloadIntervalMs)
  timer.unref()
  return () => clearInterval(timer)
}

export interface TlsMetrics {
  /** The certificate the hook now serves. */
  serving(certPem: string): void
  /** A client finished a handshake with this certificate expiry (`valid_to` of getPeerCertificate()). */
  client(validTo: string): void
}

/**
 * Expiry gauges (Unix seconds) of the certificate served and of the latest client certificate.
 * Metacontroller reads its client certificate once, so the second is the one to alert on: it must
 * be restarted before that time once the Secret holds a renewed certificate.
 */
export function tlsMetrics(registry: Registry): TlsMetrics {
  const serving = new Gauge({ name: 'pcc_tls_serving_certificate_expiry_timestamp_seconds', help: 'When the certificate the hook serves expires (Unix seconds).', registers: [registry] })
  const client = new Gauge({
    name: 'pcc_tls_client_certificate_expiry_timestamp_seconds',
    help: 'When the client certificate of the latest mutual-TLS handshake expires (Unix seconds). Metacontroller reads its certificate once: restart it before then.',
    registers: [registry]
  })
  const seconds = (date: string) => Date.parse(date) / 1000
  return {
    serving: (certPem) => serving.set(seconds(new X509Certificate(certPem).validTo)),
    client: (validTo) => {
      const at = seconds(validTo)
      if (Number.isFinite(at)) client.set(at)
    }
  }
}
