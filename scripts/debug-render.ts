// make debug: prints the children the hook would return for every example (or the files given),
// rendered with the real chart, helm and promtool, with no cluster. Problems are printed from
// the status the hook would write.
import { readdirSync, readFileSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { parse, stringify } from 'yaml'
import type { SyncResponse } from '../src/api/hook-request.js'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'

const root = resolve(import.meta.dirname, '..')
const files = process.argv.length > 2 ? process.argv.slice(2) : readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.yaml')).sort().map((f) => join(root, 'examples', f))
const app = await buildApp({ config: loadConfig({ ...process.env, LOG_LEVEL: 'warn' }) })
let failed = false
for (const file of files) {
  const resource = parse(readFileSync(file, 'utf8')) as { metadata: Record<string, unknown>; spec?: unknown }
  const parent = { ...resource, metadata: { namespace: 'default', generation: 1, ...resource.metadata }, spec: resource.spec ?? {} }
  const res = await app.inject({ method: 'POST', url: '/sync', payload: { parent, children: {}, related: {} } })
  process.stdout.write(`# ${basename(file)}: HTTP ${res.statusCode}\n`)
  if (res.statusCode !== 200) {
    failed = true
    process.stdout.write(`# ${res.body}\n`)
    continue
  }
  const { children, status } = res.json<SyncResponse>()
  for (const c of status.conditions.filter((c) => c.type === 'Degraded' && c.status === 'True')) {
    failed = true
    process.stdout.write(`# Degraded (${c.reason}): ${c.message}\n`)
  }
  for (const child of children) process.stdout.write(`---\n${stringify(child, { lineWidth: 0 })}`)
}
await app.close()
process.exit(failed ? 1 : 0)
