// Hook request bodies for every example, as Metacontroller (hook v2) sends them: sync before
// anything exists, sync with the children applied and ready, and finalize. Written to
// test/fixtures by `npm run fixtures`; a test checks they are current.
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { SyncResponse } from '../../src/api/hook-request.js'
import { ROOT } from './env.js'
import { body, observe, parentFrom } from './requests.js'

export const FIXTURES_DIR = join(ROOT, 'test', 'fixtures')

export async function buildFixtures(app: FastifyInstance): Promise<Map<string, unknown>> {
  const fixtures = new Map<string, unknown>()
  const examples = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.yaml')).sort()
  for (const example of examples) {
    const name = example.replace(/\.yaml$/, '')
    const parent = parentFrom(example)
    const first = body(parent)
    fixtures.set(`${name}-sync.json`, first)
    const res = await app.inject({ method: 'POST', url: '/sync', payload: structuredClone(first) })
    const { children } = res.json<SyncResponse>()
    const replicas = typeof parent.spec.replicas === 'number' ? parent.spec.replicas : 1
    const ready = { replicas, readyReplicas: replicas, updatedReplicas: replicas, currentRevision: 'r1', updateRevision: 'r1' }
    const observed = observe(children, 'example', ready, true)
    fixtures.set(`${name}-sync-observed.json`, body(parent, observed))
    fixtures.set(`${name}-finalize.json`, body({ ...parent, metadata: { ...parent.metadata, deletionTimestamp: '2026-01-01T01:00:00Z' } }, observed, true))
  }
  return fixtures
}

export function fixtureText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`
}
