// .nvmrc owns the Node.js version (scripts/install-nodejs.sh installs exactly it for make); the
// places that can only name its major (engines, @types/node, the image's base) must follow it.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { ROOT } from '../helpers/env.js'

const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8')
const pinned = read('.nvmrc')
const version = pinned.trim()
const major = version.split('.')[0] ?? ''

t.test('.nvmrc is one exact version on one line', async (t) => {
  t.match(pinned, /^\d+\.\d+\.\d+\n$/, 'a bare version such as 24.21.0, no v, no range')
})

t.test('package.json follows its major', async (t) => {
  const pkg = JSON.parse(read('package.json')) as { engines: { node: string }; devDependencies: Record<string, string> }
  t.equal(pkg.engines.node, `>=${major}`, 'engines.node')
  t.match(pkg.devDependencies['@types/node'] ?? '', new RegExp(`^${major}\\.\\d+\\.\\d+$`), '@types/node is a pinned version of the same major')
})

t.test('the image is built and runs on its major', async (t) => {
  const bases = [...read('Dockerfile').matchAll(/^FROM\s+node:(\S+)/gm)].map((m) => m[1] ?? '')
  t.ok(bases.length > 0, 'the Dockerfile has node stages')
  for (const tag of bases.filter((b) => /^\d/.test(b))) {
    t.ok(tag === major || tag.startsWith(`${major}-`) || tag.startsWith(`${major}.`), `node:${tag} is Node ${major}`)
  }
})

t.test('install-nodejs.sh names the bin dir after the pin, without the network', async (t) => {
  const binDir = execFileSync(join(ROOT, 'scripts', 'install-nodejs.sh'), ['--print-bin-dir'], { encoding: 'utf8' }).trim()
  t.ok(binDir.endsWith(`/nodejs/node-v${version}/bin`), binDir)
})
