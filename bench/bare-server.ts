// The baseline of the warm-sync benchmark: a bare Fastify route that parses the same body and
// sends it back. Prints its address on stdout.
import Fastify from 'fastify'

const app = Fastify({ logger: false, bodyLimit: 8 * 1024 * 1024 })
app.post('/sync', async (request) => request.body)
const address = await app.listen({ host: '127.0.0.1', port: 0 })
process.stdout.write(`listening at ${address}\n`)
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)))
