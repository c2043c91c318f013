// scripts/lib/image.sh's build_image, which writes every image the project builds without a
// container engine: a docker-archive whose manifest, config and layers name each other by digest,
// layers bottom first (a directory or a ready tar), and the same bytes from the same inputs.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ROOT } from '../helpers/env.js'

const work = mkdtempSync(join(tmpdir(), 'pcc-image-archive-'))
t.teardown(() => rmSync(work, { recursive: true, force: true }))

/** Runs build_image in bash with the install library sourced; returns its log. */
function buildImage(ref: string, config: string, dest: string, layers: string[]): string {
  const script = `set -euo pipefail; source "${ROOT}/scripts/lib/install.sh"; source "${ROOT}/scripts/lib/image.sh"; build_image "$@"`
  return execFileSync('bash', ['-c', script, 'image-archive-test', ref, config, dest, ...layers], { encoding: 'utf8', env: { ...process.env, PCC_CACHE_DIR: join(work, 'cache') }, stdio: ['ignore', 'pipe', 'pipe'] })
}
const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex')
const member = (archive: string, name: string): Buffer => execFileSync('tar', ['-xOf', archive, name], { maxBuffer: 64 * 1024 * 1024 })

t.test('two layers, a tar and a directory, named by digest from the config and the manifest', async (t) => {
  const base = join(work, 'base')
  mkdirSync(join(base, 'etc'), { recursive: true })
  writeFileSync(join(base, 'etc', 'os-release'), 'ID=test\n')
  const baseTar = join(work, 'base.tar')
  execFileSync('tar', ['-C', base, '-cf', baseTar, '.'])
  const app = join(work, 'app')
  mkdirSync(join(app, 'app'), { recursive: true })
  writeFileSync(join(app, 'app', 'server.js'), 'console.log(1)\n')

  const config = '{"User":"65534:65534","Cmd":["node","server.js"],"WorkingDir":"/app"}'
  const first = join(work, 'first.tar')
  const second = join(work, 'second.tar')
  buildImage('registry.example.test/x:1', config, first, [baseTar, app])
  buildImage('registry.example.test/x:1', config, second, [baseTar, app])
  t.equal(sha256(readFileSync(first)), sha256(readFileSync(second)), 'the same inputs give the same bytes')

  const [manifest] = JSON.parse(member(first, 'manifest.json').toString()) as { Config: string; RepoTags: string[]; Layers: string[] }[]
  t.same(manifest?.RepoTags, ['registry.example.test/x:1'])
  const configBytes = member(first, manifest?.Config ?? '')
  t.equal(`${sha256(configBytes)}.json`, manifest?.Config, 'the config is named by its digest')
  const image = JSON.parse(configBytes.toString()) as { config: unknown; rootfs: { diff_ids: string[] }; history: unknown[] }
  t.same(image.config, JSON.parse(config), 'the config object as given')
  t.equal(manifest?.Layers.length, 2)
  const layers = (manifest?.Layers ?? []).map((l) => member(first, l))
  t.same(image.rootfs.diff_ids, layers.map((l) => `sha256:${sha256(l)}`), 'diff_ids are the layers\' digests, in order')
  t.equal(image.history.length, 2, 'one history entry per layer')
  t.same(layers[0], readFileSync(baseTar), 'a tar layer is used as it is')
  const listing = execFileSync('tar', ['-tvf', '-'], { input: layers[1], encoding: 'utf8' })
  t.match(listing, /app\/server\.js/, 'a directory layer holds the directory\'s contents')
})

t.test('no layers is an error', async (t) => {
  t.throws(() => buildImage('x:1', '{}', join(work, 'none.tar'), []), /no layers/)
})
