// `helm template` of the bundled chart. Values go in on stdin as JSON (a subset of YAML), so no
// value is ever parsed by a shell or written to a shared file.
import { HookError } from '../core/errors.js'
import { run, tail, type ProcessObserver } from './subprocess.js'

export interface HelmOptions {
  helmBin: string
  chartPath: string
  kubeVersion: string
  timeoutMs: number
}

export async function helmTemplate(release: string, namespace: string, values: unknown, options: HelmOptions, observer?: ProcessObserver): Promise<string> {
  const args = ['template', release, options.chartPath, '--namespace', namespace, '--kube-version', options.kubeVersion, '--values', '-']
  const result = await run('helm', options.helmBin, args, { stdin: JSON.stringify(values), timeoutMs: options.timeoutMs }, observer)
  if (result.exitCode !== 0) {
    // Not cached: a crashed or killed helm must not poison the cache for this input.
    throw new HookError('RenderFailed', `helm template failed (exit ${result.exitCode}): ${tail(result.stderr || result.stdout)}`, { transient: true })
  }
  return result.stdout
}

/** `helm version`, for readiness: resolves to the version string or rejects with the reason. */
export async function helmVersion(helmBin: string, timeoutMs: number): Promise<string> {
  const result = await run('helm', helmBin, ['version', '--short'], { timeoutMs })
  if (result.exitCode !== 0) throw new HookError('ToolMissing', `helm version failed: ${tail(result.stderr)}`, { transient: true })
  return result.stdout.trim()
}
