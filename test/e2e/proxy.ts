// A small loopback HTTP proxy standing in for the hook's Service: requests go round-robin to the
// backends, and a request a backend cannot take (connection refused or reset) is retried on the
// next one, as kube-proxy plus Metacontroller's retry would.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Proxy {
  url: string
  close(): Promise<void>
}

function forward(target: URL, req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const out = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, connection: 'close' } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    out.on('error', reject)
    out.end(body)
  })
}

export async function startProxy(backends: string[]): Promise<Proxy> {
  let next = 0
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const attempt = async (tries: number): Promise<void> => {
        const target = new URL(backends[next++ % backends.length] ?? '')
        try {
          const answer = await forward(target, req, body)
          res.writeHead(answer.status, { 'content-type': answer.headers['content-type'] ?? 'application/json' })
          res.end(answer.body)
        } catch (error) {
          if (tries > 1) return attempt(tries - 1)
          res.writeHead(502)
          res.end(String(error))
        }
      }
      void attempt(backends.length)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
