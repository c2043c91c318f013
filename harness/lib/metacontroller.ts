// Metacontroller's arguments for the local control plane. They are not decided here:
// - 'recommended': the args of deploy/metacontroller/args.yaml, the patch this project ships over
//   Metacontroller's release manifests (the one place those flags are written);
// - 'defaults': the args of the release's own StatefulSet (manifests/production/metacontroller.yaml
//   from the tree the binary was built from), i.e. what a user gets from Metacontroller's install.
// The harness then changes only what it needs for test speed (testSpeedArgs) and the addresses
// (loopback, free ports), which say nothing about how Metacontroller behaves.
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse, parseAllDocuments, stringify } from 'yaml'
import { e2eBinDir } from './binaries.js'
import { ROOT } from '../root.js'

export type MetacontrollerFlags = 'recommended' | 'defaults'

export const recommendedArgsFile = join(ROOT, 'deploy', 'metacontroller', 'args.yaml')

/**
 * Test speed only: Metacontroller starts a CompositeController only once its discovery cache knows
 * the parent resource, and the suite installs the CRD just before the controller. With the
 * production 20 s every fresh cluster would wait up to 20 s before the first sync.
 */
export const testSpeedArgs = ['--discovery-interval=2s']

interface Workload {
  kind?: string
  metadata?: { name?: string }
  spec?: { template?: { spec?: { containers?: { name?: string; args?: unknown }[] } } }
}

/** The args of the metacontroller container of the StatefulSet `metacontroller` in a YAML file. */
export function containerArgs(file: string): string[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as Workload | null)
  const workload = docs.find((d) => d?.kind === 'StatefulSet' && d.metadata?.name === 'metacontroller')
  const args = workload?.spec?.template?.spec?.containers?.find((c) => c.name === 'metacontroller')?.args
  if (!Array.isArray(args) || !args.every((a): a is string => typeof a === 'string' && a.startsWith('--'))) {
    throw new Error(`${file}: no StatefulSet metacontroller with a container metacontroller whose args are --flags`)
  }
  return args
}

/** The flags a set of args gives: --name=value -> name. */
const flagName = (arg: string): string => arg.replace(/^--/, '').split('=')[0] ?? arg

/** base with each flag in `overrides` replaced (or added): one value per flag, no reliance on "last one wins". */
export function withArgs(base: string[], overrides: string[]): string[] {
  const replaced = new Set(overrides.map(flagName))
  return [...base.filter((a) => !replaced.has(flagName(a))), ...overrides]
}

/** The arguments the harness runs Metacontroller with, before its addresses. */
export function metacontrollerArgs(flags: MetacontrollerFlags, releaseManifests: string): string[] {
  const base = flags === 'recommended' ? containerArgs(recommendedArgsFile) : containerArgs(join(releaseManifests, 'metacontroller.yaml'))
  return withArgs(base, testSpeedArgs)
}

export const overlayDir = join(ROOT, 'deploy', 'metacontroller')
const releaseUrl = /^https:\/\/github\.com\/metacontroller\/metacontroller\/manifests\/production\?ref=(v\d+\.\d+\.\d+)$/

/** The release the overlay installs (its remote base's ref): the version the e2e tools build. */
export function metacontrollerRelease(): { url: string; version: string } {
  const kustomization = parse(readFileSync(join(overlayDir, 'kustomization.yaml'), 'utf8')) as { resources?: unknown }
  const remote = (Array.isArray(kustomization.resources) ? kustomization.resources : []).filter((r): r is string => typeof r === 'string' && releaseUrl.test(r))
  const url = remote[0]
  const version = url === undefined ? undefined : releaseUrl.exec(url)?.[1]
  if (remote.length !== 1 || url === undefined || version === undefined) throw new Error(`${overlayDir}/kustomization.yaml: expected one resource ${String(releaseUrl)}`)
  return { url, version }
}

/**
 * A local copy of the release's manifests/production, where the install script takes its source
 * from: METACONTROLLER_SRC, ../shared/third_party/metacontroller-<version>, or the copy it keeps
 * beside the binary it built. Undefined when none is there.
 */
export function localReleaseManifests(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const { version } = metacontrollerRelease()
  const candidates = [
    env.METACONTROLLER_SRC ? join(env.METACONTROLLER_SRC, 'manifests', 'production') : undefined,
    join(ROOT, '..', 'shared', 'third_party', `metacontroller-${version}`, 'manifests', 'production'),
    join(e2eBinDir(), '..', `metacontroller-${version}`, 'manifests', 'production')
  ]
  return candidates.find((dir) => dir !== undefined && existsSync(join(dir, 'metacontroller.yaml')))
}

/**
 * deploy/metacontroller/ with its remote base (the release on GitHub) replaced by a local copy of
 * that release's manifests/production, written under `dir`: what `kubectl apply -k
 * deploy/metacontroller/` installs, for machines that cannot fetch the remote base. Returns the
 * overlay's directory, for `kubectl apply -k` or `kubectl kustomize`.
 */
export function localOverlay(dir: string, releaseManifests: string): string {
  const { url } = metacontrollerRelease()
  cpSync(releaseManifests, join(dir, 'base'), { recursive: true })
  cpSync(overlayDir, join(dir, 'overlay'), { recursive: true })
  const file = join(dir, 'overlay', 'kustomization.yaml')
  const kustomization = parse(readFileSync(file, 'utf8')) as { resources: string[] }
  kustomization.resources = kustomization.resources.map((r) => (r === url ? '../base' : r))
  writeFileSync(file, stringify(kustomization))
  return join(dir, 'overlay')
}
