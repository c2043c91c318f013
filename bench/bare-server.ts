// The baseline of the warm-sync benchmark: a bare Fastify route that parses the same body and
// sends it back, over the same mutual TLS as the hook (TLS_CERT_FILE, TLS_KEY_FILE,
// TLS_CLIENT_CA_FILE; client certificates required), or plain HTTP without them. Prints its
// address on stdout.
import { readFileSync } from 'node:fs'
import Fastify, { type FastifyInstance } from 'fastify'

const file = (name: string) => readFileSync(process.env[name] ?? '', 'utf8')
const options = { logger: false, bodyLimit: 8 * 1024 * 1024 }
const app = process.env.TLS_CERT_FILE
  ? (Fastify({ ...options, https: { cert: file('TLS_CERT_FILE'), key: file('TLS_KEY_FILE'), ca: file('TLS_CLIENT_CA_FILE'), requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2', handshakeTimeout: 10_000 } }) as unknown as FastifyInstance)
  : Fastify(options)
app.post('/sync', async (request) => request.body)
const address = await app.listen({ host: '127.0.0.1', port: 0 })
process.stdout.write(`listening at ${address}\n`)
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)))
