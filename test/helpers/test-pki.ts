// Test certificates made with openssl in a temporary directory (nothing here is committed): a CA,
// server certificates for 127.0.0.1, client certificates, and a second CA whose clients the hook
// must refuse. ECDSA P-256: quick to generate.
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import https from 'node:https'
import { join } from 'node:path'
import { TLSSocket } from 'node:tls'
import { promisify } from 'node:util'

const run = promisify(execFile)
const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']

export interface KeyPair {
  cert: string
  key: string
}

async function openssl(dir: string, args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir })
}

/** A self-signed CA: `<name>.crt`, `<name>.key`. */
export async function makeCa(dir: string, name: string): Promise<KeyPair> {
  await openssl(dir, ['req', '-x509', '-new', ...ecKey, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-sha256', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'])
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) }
}

/** A leaf signed by `ca`: a server certificate for 127.0.0.1 and localhost, or a client certificate. */
export async function issue(dir: string, ca: KeyPair, name: string, usage: 'server' | 'client'): Promise<KeyPair & { serial: string }> {
  const serial = randomBytes(8).toString('hex').toUpperCase().replace(/^0/, '1')
  await openssl(dir, ['req', '-new', ...ecKey, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`])
  const ext = ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', usage === 'server' ? 'extendedKeyUsage=serverAuth' : 'extendedKeyUsage=clientAuth']
  if (usage === 'server') ext.push('subjectAltName=IP:127.0.0.1,DNS:localhost')
  await writeFile(join(dir, `${name}.ext`), ext.join('\n') + '\n')
  await openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', `0x${serial}`, '-days', '2', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.crt`])
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`), serial }
}

export interface TlsAnswer {
  status: number
  body: string
  /** Serial number of the certificate the server presented (upper-case hex). */
  serial: string
}

/**
 * One HTTPS request on a fresh connection (no agent: every call does a full handshake) trusting
 * `ca`, with the client certificate `client` if given. Rejects when the server refuses the handshake.
 */
export function tlsRequest(url: string, options: { ca: string; client?: { cert: string; key: string }; method?: string; body?: string }): Promise<TlsAnswer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url)
    const req = https.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
        headers: options.body === undefined ? {} : { 'content-type': 'application/json' },
        agent: false,
        ca: readFileSync(options.ca),
        ...(options.client ? { cert: readFileSync(options.client.cert), key: readFileSync(options.client.key) } : {}),
        timeout: 10_000
      },
      (res) => {
        const socket = res.socket
        const serial = socket instanceof TLSSocket ? socket.getPeerCertificate().serialNumber : ''
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (body += chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, serial }))
        res.on('error', reject)
      }
    )
    req.on('timeout', () => req.destroy(new Error('timed out')))
    req.on('error', reject)
    req.end(options.body)
  })
}
