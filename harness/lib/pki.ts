// The control plane's certificates and keys, made with openssl in the run's temp directory:
// a CA, kube-apiserver's serving certificate, an admin client certificate (O=system:masters), the
// service-account signing key pair, and a kubeconfig for the admin. ECDSA P-256 throughout: quick
// to generate, and accepted by every component.
import { execFile } from 'node:child_process'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface Pki {
  caCert: string
  caKey: string
  apiserverCert: string
  apiserverKey: string
  adminCert: string
  adminKey: string
  serviceAccountKey: string
  serviceAccountPub: string
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd })
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string }
    if (e.code === 'ENOENT') {
      throw new Error('openssl is needed to make the control plane\'s certificates but was not found on PATH (Debian: apt-get install openssl)', { cause: error })
    }
    throw new Error(`openssl ${args[0] ?? ''} failed: ${e.stderr ?? e.message}`, { cause: error })
  }
}

const days = '7'
const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']

async function leaf(dir: string, name: string, subject: string, extensions: string[]): Promise<void> {
  await openssl(['req', '-new', ...ecKey, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject], dir)
  await writeFile(join(dir, `${name}.ext`), extensions.join('\n') + '\n')
  await openssl(
    ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', `0x${randomBytes(16).toString('hex')}`,
      '-days', days, '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.crt`],
    dir
  )
}

/** Writes the certificates and keys into dir. serviceIp is the first address of the service range. */
export async function makePki(dir: string, serviceIp: string): Promise<Pki> {
  await openssl(
    ['req', '-x509', '-new', ...ecKey, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', days, '-sha256', '-subj', '/CN=prometheus-cluster-controller-e2e-ca',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir
  )
  await leaf(dir, 'apiserver', '/CN=kube-apiserver', [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    `subjectAltName=IP:127.0.0.1,IP:${serviceIp},DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local`
  ])
  await leaf(dir, 'admin', '/O=system:masters/CN=kubernetes-admin', [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=clientAuth'
  ])
  const sa = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' }
  })
  await writeFile(join(dir, 'sa.key'), sa.privateKey, { mode: 0o600 })
  await writeFile(join(dir, 'sa.pub'), sa.publicKey)
  return {
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    apiserverCert: join(dir, 'apiserver.crt'),
    apiserverKey: join(dir, 'apiserver.key'),
    adminCert: join(dir, 'admin.crt'),
    adminKey: join(dir, 'admin.key'),
    serviceAccountKey: join(dir, 'sa.key'),
    serviceAccountPub: join(dir, 'sa.pub')
  }
}

/** A kubeconfig with the certificates embedded, so it can be copied anywhere. */
export async function writeKubeconfig(path: string, server: string, pki: Pki): Promise<void> {
  const b64 = async (file: string) => (await readFile(file)).toString('base64')
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'e2e', cluster: { server, 'certificate-authority-data': await b64(pki.caCert) } }],
    users: [{ name: 'admin', user: { 'client-certificate-data': await b64(pki.adminCert), 'client-key-data': await b64(pki.adminKey) } }],
    contexts: [{ name: 'e2e', context: { cluster: 'e2e', user: 'admin', namespace: 'default' } }],
    'current-context': 'e2e'
  }
  // JSON is YAML: kubectl and client-go read it as a kubeconfig.
  await writeFile(path, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 })
}
