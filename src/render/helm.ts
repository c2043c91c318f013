// `helm template` of the bundled chart. Values go in on stdin as JSON (a subset of YAML), so no
// value is ever parsed by a shell or written to a shared file.
import { HookError } from '../core/errors.js'
import { batchValues, UMBRELLA } from './batch.js'
import { run, tail, type ProcessObserver } from './subprocess.js'

export interface HelmOptions {
  helmBin: string
  chartPath: string
  kubeVersion: string
  timeoutMs: number
}

export async function helmTemplate(release: string, namespace: string, values: unknown, options: HelmOptions, observer?: ProcessObserver): Promise<string> {
  return helmTemplateChart(options.chartPath, release, namespace, values, options, observer)
}

/** `helm template` of several clusters of one namespace in one run (src/render/batch.ts): the umbrella chart at `umbrellaPath`, each cluster's values under its alias. */
export async function helmTemplateBatch(umbrellaPath: string, namespace: string, values: readonly unknown[], options: HelmOptions, observer?: ProcessObserver): Promise<string> {
  return helmTemplateChart(umbrellaPath, UMBRELLA, namespace, batchValues(values), options, observer)
}

async function helmTemplateChart(chartPath: string, release: string, namespace: string, values: unknown, options: HelmOptions, observer?: ProcessObserver): Promise<string> {
  const args = ['template', release, chartPath, '--namespace', namespace, '--kube-version', options.kubeVersion, '--values', '-']
  const result = await run('helm', options.helmBin, args, { stdin: JSON.stringify(values), timeoutMs: options.timeoutMs }, observer)
  if (result.signal !== null) {
    // Not cached: a killed helm says nothing about its input.
    throw new HookError('RenderFailed', `helm template was killed by ${result.signal}`, { transient: true })
  }
  if (result.exitCode !== 0) {
    // helm template is deterministic: the same chart and values fail the same way again, so the
    // failure is cached with the input and retried only when the spec or the chart changes.
    throw new HookError('RenderFailed', `helm template failed (exit ${String(result.exitCode)}): ${tail(result.stderr || result.stdout)}`)
  }
  return result.stdout
}

/** `helm version`, for readiness: resolves to the version string or rejects with the reason. */
export async function helmVersion(helmBin: string, timeoutMs: number): Promise<string> {
  const result = await run('helm', helmBin, ['version', '--short'], { timeoutMs })
  if (result.exitCode !== 0) throw new HookError('ToolMissing', `helm version failed: ${tail(result.stderr)}`, { transient: true })
  return result.stdout.trim()
}
