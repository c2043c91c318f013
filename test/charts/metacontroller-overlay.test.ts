// deploy/metacontroller/ (kubectl apply -k) installs Metacontroller's release with this project's
// flags. Rendered here over a local copy of that release's manifests/production (the overlay's
// remote base swapped for the copy), with the real `kubectl kustomize` when the e2e tools are built
// (make e2e-tools), else by applying the patch the way a strategic merge does for these fields.
import { execFileSync, spawnSync } from 'node:child_process'
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { parseAllDocuments } from 'yaml'
import { e2eBinDir } from '../../harness/lib/binaries.js'
import { containerArgs, localOverlay, localReleaseManifests, metacontrollerRelease, recommendedArgsFile } from '../../harness/lib/metacontroller.js'

type Obj = { kind: string; metadata: { name: string; namespace?: string }; spec?: { template?: { spec?: { containers?: { name: string; image?: string; args?: string[] }[] } } } }
const docs = (text: string): Obj[] => parseAllDocuments(text).map((d) => d.toJS() as Obj | null).filter((d): d is Obj => d !== null)
const executable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

const { version } = metacontrollerRelease()
const args = containerArgs(recommendedArgsFile)

t.test('the recommended args set the API client rate and the workers, once each', async (t) => {
  const names = args.map((a) => a.replace(/^--/, '').split('=')[0])
  t.same(names.filter((n, i) => names.indexOf(n) !== i), [], 'no flag twice')
  for (const flag of ['client-go-qps', 'client-go-burst', 'workers']) t.ok(names.includes(flag), `--${flag}`)
})

const release = localReleaseManifests()
t.test(`the overlay renders over Metacontroller ${version}'s release manifests with the recommended args`, { skip: release === undefined ? `no local copy of Metacontroller ${version}'s manifests/production (make e2e-tools keeps one)` : false }, async (t) => {
  if (release === undefined) return
  const work = mkdtempSync(join(tmpdir(), 'pcc-mc-overlay-'))
  t.teardown(() => rmSync(work, { recursive: true, force: true }))
  const overlay = localOverlay(work, release)

  const base = docs(readFileSync(join(release, 'metacontroller.yaml'), 'utf8')).find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'metacontroller')
  t.ok(base, 'the release runs Metacontroller as the StatefulSet the patch names')
  t.equal(base?.spec?.template?.spec?.containers?.find((c) => c.name === 'metacontroller')?.image, `ghcr.io/metacontroller/metacontroller:${version}`, 'the release is the version of the overlay ref')

  const kubectl = join(e2eBinDir(), 'kubectl')
  if (executable(kubectl)) {
    const rendered = docs(execFileSync(kubectl, ['kustomize', overlay], { encoding: 'utf8' }))
    const releaseObjects = ['metacontroller-namespace.yaml', 'metacontroller-rbac.yaml', 'metacontroller-crds-v1.yaml', 'metacontroller.yaml'].flatMap((f) => docs(readFileSync(join(release, f), 'utf8')))
    const key = (o: Obj) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`
    t.same(rendered.map(key).sort(), releaseObjects.map(key).sort(), 'kubectl kustomize: the release objects, no more, no less')
    const statefulSet = rendered.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'metacontroller')
    const container = statefulSet?.spec?.template?.spec?.containers?.find((c) => c.name === 'metacontroller')
    t.same(container?.args, args, 'the container runs with deploy/metacontroller/args.yaml')
    t.equal(container?.image, `ghcr.io/metacontroller/metacontroller:${version}`, 'the release image, untouched')
  } else {
    // What a strategic merge needs to put the args in place: the same object, the same container.
    t.comment(`no ${kubectl} (make e2e-tools builds it): checking the patch's target instead of rendering`)
    const patch = docs(readFileSync(recommendedArgsFile, 'utf8'))
    t.equal(patch.length, 1, 'one patch')
    t.same(
      { kind: patch[0]?.kind, name: patch[0]?.metadata.name, namespace: patch[0]?.metadata.namespace, containers: patch[0]?.spec?.template?.spec?.containers?.map((c) => c.name) },
      { kind: base?.kind, name: base?.metadata.name, namespace: base?.metadata.namespace, containers: ['metacontroller'] },
      'the patch names the release StatefulSet and its metacontroller container'
    )
  }

  // Every flag is one this Metacontroller has (its --help lists them), when the binary is built.
  const binary = join(e2eBinDir(), 'metacontroller')
  if (executable(binary)) {
    // Go's flag package prints the usage on stderr.
    const run = spawnSync(binary, ['--help'], { encoding: 'utf8' })
    const help = `${run.stdout}${run.stderr}`
    for (const a of args) t.match(help, new RegExp(`^\\s+-{1,2}${a.replace(/^--/, '').split('=')[0] ?? ''}[\\s=]`, 'm'), `${a} is a flag of ${binary}`)
  }
})
