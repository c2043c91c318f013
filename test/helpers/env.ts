// What the tests run against: the real helm and promtool installed by scripts/install-tools.sh
// (make dependencies puts them on PATH and in HELM_BIN / PROMTOOL_BIN).
import { rmSync } from 'node:fs'
import { mkdtemp, writeFile, chmod } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { ROOT } from '../../harness/root.js'
import { buildApp } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config.js'

export { ROOT }
export const HELM_BIN = process.env.HELM_BIN ?? 'helm'
export const PROMTOOL_BIN = process.env.PROMTOOL_BIN ?? 'promtool'
export const CHART_PATH = join(ROOT, 'charts', 'prometheus-cluster')
export const FIXED_NOW = '2026-01-02T03:04:05Z'

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ HELM_BIN, PROMTOOL_BIN, LOG_LEVEL: 'silent', ...overrides })
}

export async function testApp(overrides: Record<string, string> = {}): Promise<FastifyInstance> {
  return buildApp({ config: testConfig(overrides), logger: false, now: () => FIXED_NOW })
}

/** The stand-ins' directories, removed when the test process exits. */
const standInDirs = new Set<string>()
process.once('exit', () => {
  for (const dir of standInDirs) rmSync(dir, { recursive: true, force: true })
})

/**
 * A stand-in executable for failure tests: real helm cannot be made to hang or crash on demand,
 * so these tests (named "stand-in") use a small shell script in its place.
 */
export async function standIn(name: string, script: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pcc-standin-'))
  standInDirs.add(dir)
  const path = join(dir, name)
  await writeFile(path, `#!/bin/sh\n${script}\n`)
  await chmod(path, 0o755)
  return path
}

/** The config of a stand-in helm for each way a render fails, by the Degraded reason it gives. */
export async function failingHelm(): Promise<[reason: string, env: Record<string, string>][]> {
  return [
    ['RenderFailed', { HELM_BIN: await standIn('helm', 'echo boom >&2; exit 1') }],
    ['RenderTimeout', { HELM_BIN: await standIn('helm', 'exec sleep 30'), RENDER_TIMEOUT_MS: '200' }],
    ['ToolMissing', { HELM_BIN: '/nonexistent/helm' }]
  ]
}

