// A small loopback TCP proxy standing in for the hook's Service, as kube-proxy does: each
// connection goes to the next backend in turn, and one a backend refuses is tried on the next.
// TCP, not HTTP: the mutual TLS between Metacontroller and the hooks passes through untouched.
import { connect, createServer, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'

export interface Proxy {
  /** host:port, for an https:// URL (the hooks' certificate names 127.0.0.1). */
  address: string
  close(): Promise<void>
}

export async function startProxy(backends: number[]): Promise<Proxy> {
  let next = 0
  const sockets = new Set<Socket>()
  const track = (s: Socket) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  }
  const server: Server = createServer((client) => {
    track(client)
    client.pause()
    const attempt = (tries: number): void => {
      const port = backends[next++ % backends.length] ?? 0
      const upstream = connect({ host: '127.0.0.1', port })
      let connected = false
      upstream.once('connect', () => {
        connected = true
        track(upstream)
        client.on('error', () => upstream.destroy())
        client.once('close', () => upstream.destroy())
        upstream.once('close', () => client.destroy())
        upstream.pipe(client)
        client.pipe(upstream)
        client.resume()
      })
      upstream.on('error', () => {
        if (connected) client.destroy()
        else if (tries > 1) attempt(tries - 1)
        else client.destroy()
      })
    }
    attempt(backends.length)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    address: `127.0.0.1:${String(port)}`,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      })
  }
}
