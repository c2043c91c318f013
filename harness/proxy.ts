// Loopback TCP proxies standing in for Services, as kube-proxy does: each connection goes to the
// next backend in turn, and one a backend refuses is tried on the next. TCP, not HTTP: the mutual
// TLS between Metacontroller and the hooks passes through untouched. startProxy fronts the hook
// processes of the journey; harness/lib/service-network.ts gives each ClusterIP of the real node one.
import { connect, createServer, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'

export interface Backend {
  host: string
  port: number
}

export interface RoundRobinServer {
  /** Not listening yet: the caller chooses where. */
  server: Server
  /** Closes the server and every connection through it. */
  close: () => Promise<void>
}

/** A server that pipes each connection to the next of backends() (read at each connection). */
export function roundRobinServer(backends: () => Backend[]): RoundRobinServer {
  let next = 0
  const sockets = new Set<Socket>()
  const track = (s: Socket) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  }
  const server: Server = createServer((client) => {
    track(client)
    client.pause()
    client.on('error', () => undefined)
    const attempt = (tries: number): void => {
      const all = backends()
      const backend = all[next++ % Math.max(all.length, 1)]
      if (backend === undefined || tries <= 0) {
        client.destroy()
        return
      }
      const upstream = connect(backend)
      let connected = false
      upstream.once('connect', () => {
        connected = true
        track(upstream)
        client.once('close', () => upstream.destroy())
        upstream.once('close', () => client.destroy())
        upstream.pipe(client)
        client.pipe(upstream)
        client.resume()
      })
      upstream.on('error', () => {
        if (connected) client.destroy()
        else attempt(tries - 1)
      })
    }
    attempt(Math.max(backends().length, 1))
  })
  return {
    server,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      })
  }
}

export interface Proxy {
  /** host:port, for an https:// URL (the hooks' certificate names 127.0.0.1). */
  address: string
  close(): Promise<void>
}

/** A proxy on a free loopback port to these loopback ports. */
export async function startProxy(ports: number[]): Promise<Proxy> {
  const proxy = roundRobinServer(() => ports.map((port) => ({ host: '127.0.0.1', port })))
  await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve))
  const { port } = proxy.server.address() as AddressInfo
  return { address: `127.0.0.1:${String(port)}`, close: () => proxy.close() }
}
