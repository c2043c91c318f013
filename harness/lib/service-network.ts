// Services and cluster DNS for the real node's pods, standing in for kube-proxy and CoreDNS, which
// this harness does not run: pods that talk to the API server (in-cluster config:
// KUBERNETES_SERVICE_HOST, the `kubernetes` Service) or to another Service by its DNS name
// (Metacontroller calling the hook at prometheus-cluster-controller.<namespace>.svc) need both.
//
// - Services: every ClusterIP becomes an address (/32) of the node's bridge, and a TCP proxy in this
//   process listens on it, on each of the Service's TCP ports. A connection goes to the next ready
//   endpoint of that port (its EndpointSlices), in turn; an endpoint that refuses is skipped for the
//   next. That is kube-proxy's old userspace mode: pods reach ClusterIPs through the bridge, the
//   host answers on them, and no iptables (which this machine does not have) are involved. The
//   `kubernetes` Service, whose endpoints the API server here does not publish, goes to the API
//   server on loopback.
// - DNS: a UDP server on the bridge's gateway address (the kubelet's clusterDNS) answers A queries
//   for <service>.<namespace>.svc.<domain> (the ClusterIP, or a headless Service's ready endpoints)
//   and <hostname>.<service>.<namespace>.svc.<domain>; NXDOMAIN for every other name.
// Both are refreshed from the API server every second, and at once when a name is not found.
//
// Everything listens on addresses of the node's own bridge, which only this machine and its pods
// reach; the bridge and its addresses go with the node (real-node.ts).
import { execFile } from 'node:child_process'
import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import { readFileSync } from 'node:fs'
import { request } from 'node:https'
import { promisify } from 'node:util'
import { roundRobinServer, type Backend, type RoundRobinServer } from '../proxy.js'
import type { ClientTls } from './watch.js'

const run = promisify(execFile)

export interface ServiceNetworkOptions {
  /** The API server and the admin's client certificate, to read Services and EndpointSlices. */
  api: { server: string; tls: ClientTls }
  /** The node's bridge, which gets the ClusterIPs. */
  bridge: string
  /** The bridge's own address (the pods' gateway), where DNS listens. */
  gateway: string
  /** The cluster's DNS domain (default cluster.local). */
  domain?: string
  /** Progress and problems (default: to stderr, prefixed with "e2e services:"). */
  log?: (message: string) => void
}

export interface ServiceNetwork {
  /** The DNS server's address, for the kubelet's clusterDNS. */
  dns: string
  /** Reads Services and EndpointSlices now (it also does every second). */
  sync(): Promise<void>
  /** Closes every listener and connection and removes the ClusterIPs from the bridge. */
  stop(): Promise<void>
}

interface Port {
  name: string
  port: number
}
interface Service {
  namespace: string
  name: string
  clusterIP: string | undefined
  ports: Port[]
}
interface Endpoint {
  address: string
  hostname: string | undefined
  ready: boolean
  /** Port name -> number, from the slice. */
  ports: Map<string, number>
}

type ServiceObject = { metadata: { namespace: string; name: string }; spec: { clusterIP?: string; ports?: { name?: string; port: number; protocol?: string }[] } }
type SliceObject = {
  metadata: { namespace: string; labels?: Record<string, string> }
  addressType: string
  ports?: { name?: string; port?: number; protocol?: string }[] | null
  endpoints?: { addresses: string[]; hostname?: string; conditions?: { ready?: boolean } }[] | null
}

/** A /24 for a cluster's Services, in 10.95.0.0/16 (not 10.96.0.0/16, the harness's default), that no address or route of this machine is in. */
export async function freeServiceCidr(): Promise<string> {
  const { stdout } = await run('ip', ['-4', 'route', 'show', 'table', 'all'])
  const used = new Set([...stdout.matchAll(/\b10\.95\.(\d+)\.\d+/g)].map((m) => Number(m[1])))
  const free = Array.from({ length: 254 }, (_, i) => i + 1).filter((n) => !used.has(n))
  const pick = free[Math.floor(Math.random() * free.length)]
  if (pick === undefined) throw new Error('no free /24 in 10.95.0.0/16 for the cluster\'s Services')
  return `10.95.${String(pick)}.0/24`
}

function getJson<T>(api: ServiceNetworkOptions['api'], path: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, api.server), { ca: readFileSync(api.tls.ca), cert: readFileSync(api.tls.cert), key: readFileSync(api.tls.key), timeout: 10_000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => {
        if (res.statusCode === 200) resolve(JSON.parse(body) as T)
        else reject(new Error(`GET ${path}: HTTP ${String(res.statusCode)}: ${body.slice(0, 200)}`))
      })
    })
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: timeout`)))
    req.on('error', reject)
    req.end()
  })
}

const isIPv4 = (s: string | undefined): s is string => s !== undefined && /^\d+\.\d+\.\d+\.\d+$/.test(s)

export async function startServiceNetwork(options: ServiceNetworkOptions): Promise<ServiceNetwork> {
  const log = options.log ?? ((m: string) => process.stderr.write(`e2e services: ${m}\n`))
  const domain = (options.domain ?? 'cluster.local').toLowerCase()
  const apiserver = new URL(options.api.server)
  const apiserverBackend: Backend = { host: apiserver.hostname, port: Number(apiserver.port || 443) }

  let services = new Map<string, Service>()
  let endpoints = new Map<string, Endpoint[]>()
  const listeners = new Map<string, RoundRobinServer>()
  const addresses = new Set<string>()
  let stopped = false

  const backends = (serviceKey: string, portName: string): Backend[] => {
    if (serviceKey === 'default/kubernetes') return [apiserverBackend]
    return (endpoints.get(serviceKey) ?? []).flatMap((e) => {
      const port = e.ports.get(portName)
      return e.ready && port !== undefined ? [{ host: e.address, port }] : []
    })
  }

  /** A proxy on ip:port to the ready endpoints of the Service's port, the next one each time. */
  async function listen(ip: string, port: number, serviceKey: string, portName: string): Promise<void> {
    const proxy = roundRobinServer(() => backends(serviceKey, portName))
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject)
      proxy.server.listen({ host: ip, port, exclusive: true }, () => {
        proxy.server.off('error', reject)
        resolve()
      })
    })
    listeners.set(`${ip}:${String(port)}`, proxy)
  }

  async function addAddress(ip: string): Promise<void> {
    if (addresses.has(ip)) return
    try {
      await run('ip', ['addr', 'add', `${ip}/32`, 'dev', options.bridge])
    } catch (error) {
      if (!String((error as { stderr?: string }).stderr).includes('File exists')) throw error
    }
    addresses.add(ip)
  }

  async function removeAddress(ip: string): Promise<void> {
    addresses.delete(ip)
    await run('ip', ['addr', 'del', `${ip}/32`, 'dev', options.bridge]).catch(() => undefined)
  }

  function closeListener(key: string): Promise<void> {
    const l = listeners.get(key)
    listeners.delete(key)
    return l === undefined ? Promise.resolve() : l.close()
  }


  async function read(): Promise<void> {
    const [svcList, sliceList] = await Promise.all([
      getJson<{ items: ServiceObject[] }>(options.api, '/api/v1/services'),
      getJson<{ items: SliceObject[] }>(options.api, '/apis/discovery.k8s.io/v1/endpointslices')
    ])
    const nextServices = new Map<string, Service>()
    for (const s of svcList.items) {
      const key = `${s.metadata.namespace}/${s.metadata.name}`
      const ports = (s.spec.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP').map((p) => ({ name: p.name ?? '', port: p.port }))
      nextServices.set(key, { namespace: s.metadata.namespace, name: s.metadata.name, clusterIP: isIPv4(s.spec.clusterIP) ? s.spec.clusterIP : undefined, ports })
    }
    const nextEndpoints = new Map<string, Endpoint[]>()
    for (const slice of sliceList.items) {
      const service = slice.metadata.labels?.['kubernetes.io/service-name']
      if (service === undefined || slice.addressType !== 'IPv4') continue
      const ports = new Map((slice.ports ?? []).flatMap((p) => ((p.protocol ?? 'TCP') === 'TCP' && p.port !== undefined ? [[p.name ?? '', p.port] as const] : [])))
      const key = `${slice.metadata.namespace}/${service}`
      const list = nextEndpoints.get(key) ?? []
      for (const e of slice.endpoints ?? []) {
        const address = e.addresses[0]
        if (address !== undefined) list.push({ address, hostname: e.hostname, ready: e.conditions?.ready !== false, ports })
      }
      nextEndpoints.set(key, list)
    }
    services = nextServices
    endpoints = nextEndpoints

    // Listeners follow the Services.
    const wanted = new Map<string, { ip: string; port: number; serviceKey: string; portName: string }>()
    for (const [key, s] of services) {
      if (s.clusterIP === undefined) continue
      for (const p of s.ports) wanted.set(`${s.clusterIP}:${String(p.port)}`, { ip: s.clusterIP, port: p.port, serviceKey: key, portName: p.name })
    }
    for (const key of [...listeners.keys()]) if (!wanted.has(key)) await closeListener(key)
    for (const [key, w] of wanted) {
      if (listeners.has(key) || stopped) continue
      try {
        await addAddress(w.ip)
        await listen(w.ip, w.port, w.serviceKey, w.portName)
      } catch (error) {
        log(`cannot serve ${w.serviceKey} on ${key}: ${(error as Error).message}`)
      }
    }
    const inUse = new Set([...listeners.keys()].map((k) => k.slice(0, k.lastIndexOf(':'))))
    for (const ip of [...addresses]) if (!inUse.has(ip)) await removeAddress(ip)
  }

  // One read at a time; a caller during a read waits for the next one.
  let current: Promise<void> | undefined
  let again: Promise<void> | undefined
  const sync = (): Promise<void> => {
    if (current === undefined) {
      current = read().finally(() => (current = undefined))
      return current
    }
    again ??= current.catch(() => undefined).then(() => {
      again = undefined
      return sync()
    })
    return again
  }

  /** The A records of a name, undefined when the name does not exist. */
  const resolve = (name: string): string[] | undefined => {
    const suffix = `.svc.${domain}`
    if (!name.endsWith(suffix)) return undefined
    const labels = name.slice(0, -suffix.length).split('.')
    if (labels.length === 2) {
      const [svc, ns] = labels
      const s = services.get(`${ns ?? ''}/${svc ?? ''}`)
      if (s === undefined) return undefined
      if (s.clusterIP !== undefined) return [s.clusterIP]
      return (endpoints.get(`${s.namespace}/${s.name}`) ?? []).filter((e) => e.ready).map((e) => e.address)
    }
    if (labels.length === 3) {
      const [host, svc, ns] = labels
      const e = (endpoints.get(`${ns ?? ''}/${svc ?? ''}`) ?? []).find((x) => x.hostname === host)
      return e === undefined ? undefined : [e.address]
    }
    return undefined
  }

  const dns: UdpSocket = createSocket('udp4')
  dns.on('message', (query, peer) => {
    void answer(query).then(
      (reply) => dns.send(reply, peer.port, peer.address),
      (error: unknown) => log(`DNS: ${(error as Error).message}`)
    )
  })
  async function answer(query: Buffer): Promise<Buffer> {
    const header = (rcode: number, answers: number, questionEnd: number): Buffer => {
      const h = Buffer.alloc(12)
      h.writeUInt16BE(query.readUInt16BE(0), 0)
      // QR, the query's opcode and RD, AA; no recursion available.
      h.writeUInt16BE(0x8000 | (query.readUInt16BE(2) & 0x7900) | 0x0400 | rcode, 2)
      h.writeUInt16BE(questionEnd > 12 ? 1 : 0, 4)
      h.writeUInt16BE(answers, 6)
      return h
    }
    if (query.length < 12) return Buffer.alloc(0)
    // One question: labels, then type and class.
    let offset = 12
    const labels: string[] = []
    for (;;) {
      const length = query[offset]
      if (length === undefined || length > 63 || query.readUInt16BE(4) !== 1) return header(1, 0, 12)
      offset += 1
      if (length === 0) break
      labels.push(query.subarray(offset, offset + length).toString('latin1').toLowerCase())
      offset += length
    }
    if (offset + 4 > query.length) return header(1, 0, 12)
    const type = query.readUInt16BE(offset)
    const questionEnd = offset + 4
    const question = query.subarray(12, questionEnd)
    const name = labels.join('.')
    let records = resolve(name)
    if (records === undefined && name.endsWith(`.svc.${domain}`)) {
      await sync().catch(() => undefined)
      records = resolve(name)
    }
    if (records === undefined) return Buffer.concat([header(3, 0, questionEnd), question])
    // A: the addresses; any other type of a name that exists: no records (NOERROR).
    const answers = type === 1 ? records : []
    const rrs = answers.map((ip) => {
      const rr = Buffer.alloc(16)
      rr.writeUInt16BE(0xc00c, 0)
      rr.writeUInt16BE(1, 2)
      rr.writeUInt16BE(1, 4)
      rr.writeUInt32BE(5, 6)
      rr.writeUInt16BE(4, 10)
      ip.split('.').forEach((o, i) => rr.writeUInt8(Number(o), 12 + i))
      return rr
    })
    return Buffer.concat([header(0, rrs.length, questionEnd), question, ...rrs])
  }
  await new Promise<void>((resolvePromise, reject) => {
    dns.once('error', reject)
    dns.bind({ address: options.gateway, port: 53, exclusive: true }, () => {
      dns.off('error', reject)
      resolvePromise()
    })
  })
  dns.on('error', (error) => log(`DNS: ${error.message}`))

  await sync()
  const timer = setInterval(() => {
    sync().catch((error: unknown) => log(`reading Services: ${(error as Error).message}`))
  }, 1000)

  let stopping: Promise<void> | undefined
  return {
    dns: options.gateway,
    sync,
    stop: () => {
      stopping ??= (async () => {
        stopped = true
        clearInterval(timer)
        await current?.catch(() => undefined)
        dns.close()
        await Promise.all([...listeners.keys()].map((k) => closeListener(k)))
        await Promise.all([...addresses].map((ip) => removeAddress(ip)))
      })()
      return stopping
    }
  }
}
