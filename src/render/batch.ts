// Several clusters in one `helm template`: most of a helm run is helm starting (about 29 of 37 ms
// here, its package initialisation), not rendering, so a burst of new clusters renders in batches.
// A batch is an umbrella chart whose dependencies are the bundled chart under the aliases r0, r1,
// ...; each alias gets one cluster's values, helm checks each against the chart's values schema,
// and the output is split back by the `# Source:` line helm writes above every document. The
// templates read nothing but .Values and .Release.Namespace, so a cluster renders the same in a
// batch as alone (test/render/batch.test.ts holds them equal); a batch never mixes namespaces.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'

/** The umbrella chart's name: the first segment of every `# Source:` path in a batch's output. */
export const UMBRELLA = 'batch'

export const alias = (index: number): string => `r${String(index)}`

/** The umbrella chart for `size` clusters: its Chart.yaml, depending on the bundled chart once per alias. */
export function umbrellaChartYaml(chart: { name: string; version: string }, size: number): string {
  const dependencies = Array.from({ length: size }, (_, i) => `  - name: ${JSON.stringify(chart.name)}\n    version: ${JSON.stringify(chart.version)}\n    alias: ${alias(i)}\n`)
  return `apiVersion: v2\nname: ${UMBRELLA}\nversion: 0.0.0\ndescription: ${size} renders of ${chart.name} in one helm run (written by the hook)\ndependencies:\n${dependencies.join('')}`
}

/** The values of a batch: each cluster's under its alias. */
export function batchValues(values: readonly unknown[]): Record<string, unknown> {
  return Object.fromEntries(values.map((v, i) => [alias(i), v]))
}

/**
 * A batch's output split into each cluster's manifests, by the `# Source: batch/charts/r<i>/`
 * line helm writes above each document. Text outside any member's documents is an error: the
 * output is not what this module asked helm for.
 */
export function splitBatchOutput(output: string, size: number): string[] {
  const parts: string[][] = Array.from({ length: size }, () => [])
  const prefix = `# Source: ${UMBRELLA}/charts/`
  for (const document of output.split(/^---$/m)) {
    if (document.trim() === '') continue
    const source = document.split('\n').find((line) => line.startsWith('# Source: '))
    const member = source?.startsWith(prefix) ? /^r(\d+)\//.exec(source.slice(prefix.length)) : null
    const index = member ? Number(member[1]) : NaN
    const part = parts[index]
    if (part === undefined) throw new Error(`a document of the batch names no member: ${(source ?? document.trim().split('\n')[0] ?? '').slice(0, 120)}`)
    part.push(document)
  }
  return parts.map((docs) => docs.map((d) => `---${d}`).join(''))
}

/** Every umbrella directory not yet disposed of, removed at the process's exit. */
const roots = new Set<string>()
process.once('exit', () => {
  for (const root of roots) rmSync(root, { recursive: true, force: true })
})

/**
 * The umbrella charts of one chart directory, written on first use under a private temporary
 * directory (one per batch size; each links the bundled chart as its only dependency) and removed
 * by dispose() or at the process's exit.
 */
export class UmbrellaCharts {
  private root: string | undefined
  private readonly made = new Set<number>()
  private readonly chart: { name: string; version: string }

  constructor(private readonly chartPath: string) {
    const meta = parse(readFileSync(join(chartPath, 'Chart.yaml'), 'utf8')) as { name?: unknown; version?: unknown }
    if (typeof meta.name !== 'string' || typeof meta.version !== 'string') throw new Error(`${chartPath}/Chart.yaml has no name and version`)
    this.chart = { name: meta.name, version: meta.version }
  }

  /** The directory of the umbrella chart for `size` clusters. */
  path(size: number): string {
    if (this.root === undefined) {
      this.root = mkdtempSync(join(tmpdir(), 'pcc-batch-'))
      roots.add(this.root)
    }
    const dir = join(this.root, String(size))
    if (!this.made.has(size)) {
      mkdirSync(join(dir, 'charts'), { recursive: true })
      symlinkSync(this.chartPath, join(dir, 'charts', this.chart.name))
      writeFileSync(join(dir, 'Chart.yaml'), umbrellaChartYaml(this.chart, size))
      this.made.add(size)
    }
    return dir
  }

  dispose(): void {
    if (this.root !== undefined) {
      rmSync(this.root, { recursive: true, force: true })
      roots.delete(this.root)
    }
    this.root = undefined
    this.made.clear()
  }
}
