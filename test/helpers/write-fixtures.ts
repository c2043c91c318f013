// Regenerates test/fixtures (npm run fixtures) from examples/ with the real chart.
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { buildFixtures, FIXTURES_DIR, fixtureText } from './fixtures.js'
import { testApp } from './env.js'

const app = await testApp()
await mkdir(FIXTURES_DIR, { recursive: true })
for (const [file, value] of await buildFixtures(app)) {
  await writeFile(join(FIXTURES_DIR, file), fixtureText(value))
  console.log(`wrote test/fixtures/${file}`)
}
await app.close()
