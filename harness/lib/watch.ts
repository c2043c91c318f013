// A watch on the API server that cannot miss an event: it lists first, then watches from the
// list's resourceVersion, so every change after the list is delivered, however fast, even one made
// before the watch's connection is up. Events are kept in order with their object's
// resourceVersion, the position etcd gave the write (one sequence for every resource type).
import { request } from 'node:https'
import { readFileSync } from 'node:fs'

export interface ClientTls {
  ca: string
  cert: string
  key: string
}

export interface WatchedObject {
  metadata: { name: string; namespace?: string; uid: string; resourceVersion: string; deletionTimestamp?: string }
  spec?: Record<string, unknown>
  status?: Record<string, unknown>
}

export interface WatchEvent<T extends WatchedObject = WatchedObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'
  object: T
  /** The object's resourceVersion as a number (etcd's revision of that write). */
  revision: number
}

export interface Watch<T extends WatchedObject = WatchedObject> {
  /** The objects the list returned. */
  initial: T[]
  /** Every event since, in order. */
  events: WatchEvent<T>[]
  /** Resolves with the first event (past or future) that matches; rejects after timeoutMs or if the watch ends. */
  until(what: string, match: (e: WatchEvent<T>) => boolean, timeoutMs?: number): Promise<WatchEvent<T>>
  stop(): void
}

interface Target {
  server: string
  tls: ClientTls
}

function get(target: Target, path: string, onData: (chunk: string) => void): Promise<{ status: number; done: Promise<void>; abort(): void }> {
  const url = new URL(path, target.server)
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: readFileSync(target.tls.ca), cert: readFileSync(target.tls.cert), key: readFileSync(target.tls.key) }, (res) => {
      res.setEncoding('utf8')
      res.on('data', onData)
      const done = new Promise<void>((r) => {
        res.on('end', () => r())
        res.on('close', () => r())
        res.on('error', () => r())
      })
      resolve({ status: res.statusCode ?? 0, done, abort: () => req.destroy() })
    })
    req.on('error', reject)
    req.end()
  })
}

/**
 * Watches `collection` (an API path such as /apis/apps/v1/namespaces/ns/statefulsets) filtered by
 * `selector` (labelSelector/fieldSelector query parameters).
 */
export async function watch<T extends WatchedObject>(target: Target, collection: string, selector: Record<string, string> = {}): Promise<Watch<T>> {
  let body = ''
  // A 429 is the API server asking to retry: right after a CRD is established its storage may still be starting.
  for (let attempt = 1; ; attempt++) {
    body = ''
    const listed = await get(target, `${collection}?${new URLSearchParams(selector).toString()}`, (c) => (body += c))
    await listed.done
    if (listed.status === 200) break
    if (listed.status !== 429 || attempt >= 30) throw new Error(`GET ${collection}: HTTP ${String(listed.status)}: ${body}`)
    await new Promise((r) => setTimeout(r, 1000))
  }
  const list = JSON.parse(body) as { metadata: { resourceVersion: string }; items: T[] }

  const events: WatchEvent<T>[] = []
  const waiters = new Set<() => void>()
  let ended = false
  let pending = ''
  const query = new URLSearchParams({ ...selector, watch: '1', resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: 'false' })
  const watching = await get(target, `${collection}?${query.toString()}`, (chunk) => {
    pending += chunk
    let newline
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline).trim()
      pending = pending.slice(newline + 1)
      if (line === '') continue
      // An ERROR event's object is a Status, without a resourceVersion: its revision is NaN.
      const event = JSON.parse(line) as Omit<WatchEvent<T>, 'revision'>
      events.push({ ...event, revision: Number((event.object.metadata as Partial<WatchedObject['metadata']> | undefined)?.resourceVersion) })
    }
    for (const wake of waiters) wake()
  })
  if (watching.status !== 200) throw new Error(`watch ${collection}: HTTP ${String(watching.status)}`)
  void watching.done.then(() => {
    ended = true
    for (const wake of waiters) wake()
  })

  const until = (what: string, match: (e: WatchEvent<T>) => boolean, timeoutMs = 120_000): Promise<WatchEvent<T>> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = events.find(match)
        const error = events.find((e) => e.type === 'ERROR')
        const failure = found ? undefined : error ? `the watch failed: ${JSON.stringify(error.object)}` : ended ? 'the watch ended' : undefined
        if (found === undefined && failure === undefined) return
        waiters.delete(check)
        clearTimeout(timer)
        if (found) resolve(found)
        else reject(new Error(`waiting for ${what} on ${collection}: ${String(failure)}`))
      }
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(new Error(`timed out after ${String(timeoutMs / 1000)}s waiting for ${what} on ${collection}`))
      }, timeoutMs)
      waiters.add(check)
      check()
    })

  return { initial: list.items, events, until, stop: () => watching.abort() }
}
