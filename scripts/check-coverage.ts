// Fails the test run when coverage of src/ drops below the thresholds (tap itself only knows "100%
// or not"). Reads the summary `tap report json-summary` writes.
import { readFileSync } from 'node:fs'

const THRESHOLDS = { lines: 95, statements: 95, functions: 90, branches: 85 } as const
type Metric = keyof typeof THRESHOLDS

const summary = JSON.parse(readFileSync('.tap/report/coverage-summary.json', 'utf8')) as { total: Record<Metric, { pct: number }> }
const failures = (Object.keys(THRESHOLDS) as Metric[]).filter((m) => summary.total[m].pct < THRESHOLDS[m])
for (const m of Object.keys(THRESHOLDS) as Metric[]) {
  console.log(`coverage ${m}: ${summary.total[m].pct}% (threshold ${THRESHOLDS[m]}%)`)
}
if (failures.length > 0) {
  console.error(`coverage below threshold: ${failures.join(', ')}`)
  process.exit(1)
}
