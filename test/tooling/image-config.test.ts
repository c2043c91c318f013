// The hook image's runtime settings have one owner, the Dockerfile's final stage: the build without
// a container engine (scripts/build-image.sh) reads them through scripts/image-config.ts, and the
// install manifests must agree with them. Here: the reader against Docker's rules, the Dockerfile
// against the Deployment, and the build script against the Dockerfile's COPY lines.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { parse } from 'yaml'
import { finalStage, nodeFlags, instructions, withBaseEnv, words } from '../../scripts/image-config.js'
import { ROOT } from '../helpers/env.js'

t.test('instructions: comments dropped, also inside a continuation; continuations joined', async (t) => {
  const text = '# syntax=docker/dockerfile:1\nFROM a AS b\n\nENV A=1 \\\n# a comment\n    B=2\nrun echo \\\n  hi\n'
  t.same(instructions(text).map((i) => [i.keyword, i.args, i.line]), [
    ['FROM', 'a AS b', 2],
    ['ENV', 'A=1      B=2', 4],
    ['RUN', 'echo    hi', 7]
  ])
  t.throws(() => instructions('FROM a\nENV A=1 \\'), /continuation runs past the end/)
})

t.test('words: quotes and escapes as a shell splits them', async (t) => {
  t.same(words(`A="x y" B='p q' C=a\\ b D=""`), ['A=x y', 'B=p q', 'C=a b', 'D='])
  t.throws(() => words('A="x'), /unterminated/)
})

t.test('the final stage: only its own instructions, resolved as Docker does', async (t) => {
  const stage = finalStage(
    [
      'FROM golang AS tools',
      'WORKDIR /src',
      'RUN make',
      'FROM node:24-bookworm-slim',
      'WORKDIR /app',
      'WORKDIR sub',
      'COPY --from=tools /out/a /out/b /usr/local/bin/',
      'COPY charts/x ./charts/x',
      'USER 65534:65534',
      'ENV NODE_ENV=production \\',
      '    HOME="/tmp" PORT=1',
      'ENV LEGACY some value',
      'ENV PORT=2',
      'EXPOSE 8443 53/udp',
      'LABEL org.opencontainers.image.title="the hook"',
      'CMD ["node", "dist/server.js"]'
    ].join('\n')
  )
  t.equal(stage.from, 'node:24-bookworm-slim')
  t.same(stage.config, {
    Env: ['NODE_ENV=production', 'HOME=/tmp', 'PORT=2', 'LEGACY=some value'],
    WorkingDir: '/app/sub',
    User: '65534:65534',
    ExposedPorts: { '8443/tcp': {}, '53/udp': {} },
    Labels: { 'org.opencontainers.image.title': 'the hook' },
    Cmd: ['node', 'dist/server.js']
  })
  t.same(stage.copies.flatMap((c) => c.paths), ['/usr/local/bin/a', '/usr/local/bin/b', '/app/sub/charts/x'])
  t.same(finalStage('FROM x\nCMD node server.js\n').config.Cmd, ['/bin/sh', '-c', 'node server.js'], 'the shell form runs through /bin/sh -c')
  t.same(withBaseEnv(stage.config, ['PATH=/bin', 'PORT=0']).Env, ['PATH=/bin', 'PORT=2', 'NODE_ENV=production', 'HOME=/tmp', 'LEGACY=some value'], 'the stage\'s ENV over the base\'s')
})

t.test('what the other build cannot follow is an error, not a different image', async (t) => {
  t.throws(() => finalStage('FROM x\nRUN apt-get install -y curl\n'), /line 2, RUN: not understood in the final stage/)
  t.throws(() => finalStage('FROM x\nCOPY --chown=1:1 a /a\n'), /only --from is understood/)
  t.throws(() => finalStage('FROM x\nARG V\n'), /ARG: not understood/)
})

const dockerfile = finalStage(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))
const env = new Map(dockerfile.config.Env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]))
const copied = dockerfile.copies.flatMap((c) => c.paths)

t.test('the Dockerfile and the Deployment both installs run agree', async (t) => {
  type Deployment = {
    spec: {
      template: {
        spec: {
          securityContext: { runAsUser: number; runAsGroup: number }
          containers: { env: { name: string; value: string }[]; ports: { containerPort: number }[]; securityContext: { readOnlyRootFilesystem: boolean }; volumeMounts: { mountPath: string }[] }[]
        }
      }
    }
  }
  const deployment = parse(readFileSync(join(ROOT, 'metacontroller', 'controller', 'deployment.yaml'), 'utf8')) as Deployment
  const pod = deployment.spec.template.spec
  const container = pod.containers[0]
  t.equal(dockerfile.config.User, `${String(pod.securityContext.runAsUser)}:${String(pod.securityContext.runAsGroup)}`, 'USER is the uid:gid the Deployment runs as')
  t.same(
    container?.ports.map((p) => `${String(p.containerPort)}/tcp`).sort(),
    Object.keys(dockerfile.config.ExposedPorts ?? {}).sort(),
    'EXPOSE lists the container ports'
  )
  const deploymentEnv = new Map(container?.env.map((e) => [e.name, e.value]))
  for (const name of ['PORT', 'OPS_PORT', 'HOME']) t.equal(deploymentEnv.get(name), env.get(name), `${name} is the same in both`)
  t.ok(container?.securityContext.readOnlyRootFilesystem, 'the Deployment mounts the root filesystem read-only')
  t.ok(container?.volumeMounts.some((m) => m.mountPath === env.get('HOME')), 'HOME, where helm writes, is a volume of the Deployment')
})

t.test('ENV and CMD point at what the final stage COPYs', async (t) => {
  for (const name of ['HELM_BIN', 'PROMTOOL_BIN', 'CHART_PATH']) t.ok(copied.includes(env.get(name) ?? ''), `${name}=${env.get(name) ?? ''} is copied into the image`)
  const script = dockerfile.config.Cmd?.at(-1) ?? ''
  t.equal(dockerfile.config.Cmd?.[0], 'node')
  t.ok(copied.some((p) => `${dockerfile.config.WorkingDir ?? ''}/${script}`.startsWith(`${p}/`)), `CMD's ${script} is under a copied directory`)
})

t.test('the server runs with the Node.js flags of the CMD wherever it is started', async (t) => {
  const flags = nodeFlags(dockerfile)
  t.ok(flags.some((f) => f.startsWith('--max-semi-space-size=')), 'the young generation is bounded (hook RSS, README "Performance")')
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  t.equal(pkg.scripts.start, (dockerfile.config.Cmd ?? []).join(' '), 'npm start (make run) runs the CMD')
  t.same(nodeFlags(finalStage('FROM x\nCMD ["node", "a.js"]\n')), [], 'no flags')
  t.throws(() => nodeFlags(finalStage('FROM x\nCMD ["npm", "start"]\n')), /CMD must be \["node"/)
  t.throws(() => nodeFlags(finalStage('FROM x\nCMD ["node", "x.js", "y.js"]\n')), /CMD must be/, 'only --flags between node and the script')
})

t.test('scripts/build-image.sh fills exactly the paths the final stage COPYs', async (t) => {
  const script = readFileSync(join(ROOT, 'scripts', 'build-image.sh'), 'utf8')
  const loop = script.slice(script.indexOf('case "$path" in'), script.indexOf('esac', script.indexOf('case "$path" in')))
  const filled = [...loop.matchAll(/^\s+(\/[^)\s]+)\)/gm)].map((m) => m[1])
  t.same(filled.sort(), [...copied].sort())
})
