// Checks a configuration and rules file with promtool before they can reach a running server.
// Files go to a private temporary directory that is removed afterwards.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HookError } from '../core/errors.js'
import type { PrometheusFiles } from '../core/prometheus-config.js'
import { run, tail, type ProcessObserver } from './subprocess.js'

export interface PromtoolOptions {
  promtoolBin: string
  timeoutMs: number
}

async function check(args: string[], what: string, options: PromtoolOptions, observer?: ProcessObserver): Promise<void> {
  const result = await run('promtool', options.promtoolBin, args, { timeoutMs: options.timeoutMs }, observer)
  if (result.signal !== null) {
    // A killed promtool judged nothing: not a verdict to cache.
    throw new HookError('RenderFailed', `promtool was killed by ${result.signal} while checking the ${what}`, { transient: true })
  }
  if (result.exitCode !== 0) {
    const output = `${result.stdout}\n${result.stderr}`.replaceAll(/\S*pcc-promtool-[^/\s]*\//g, '')
    throw new HookError('InvalidConfiguration', `promtool rejected the ${what}: ${tail(output)}`)
  }
}

/**
 * Resolves when promtool accepts both files; rejects with HookError('InvalidConfiguration') naming
 * promtool's complaint otherwise. The config is checked for syntax only: files it refers to exist
 * in the pod, not here.
 */
export async function checkPrometheusFiles(files: PrometheusFiles, options: PromtoolOptions, observer?: ProcessObserver): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'pcc-promtool-'))
  try {
    // Every file is written before any check starts, so no check can fail while another await is
    // pending and leave its rejection unhandled.
    const configPath = join(dir, 'prometheus.yml')
    const rulesPath = join(dir, 'rules.yaml')
    await writeFile(configPath, files.config, { mode: 0o600 })
    if (files.rules !== '') await writeFile(rulesPath, files.rules, { mode: 0o600 })
    const checks = [check(['check', 'config', '--syntax-only', configPath], 'configuration', options, observer)]
    if (files.rules !== '') checks.push(check(['check', 'rules', rulesPath], 'rules', options, observer))
    const results = await Promise.allSettled(checks)
    const rejected = results.find((r) => r.status === 'rejected')
    if (rejected) throw rejected.reason
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** `promtool <version>` from the first line promtool --version prints ("promtool, version 3.13.5 (branch: ...)"). */
export function promtoolLabel(versionLine: string): string {
  const version = /version (\d+\.\d+\.\d+\S*)/.exec(versionLine)?.[1]
  return version === undefined ? 'promtool (version unknown)' : `promtool ${version}`
}

export async function promtoolVersion(promtoolBin: string, timeoutMs: number): Promise<string> {
  const result = await run('promtool', promtoolBin, ['--version'], { timeoutMs })
  if (result.exitCode !== 0) throw new HookError('ToolMissing', `promtool --version failed: ${tail(result.stderr)}`, { transient: true })
  return result.stdout.split('\n')[0]?.trim() ?? ''
}
