// The hook image's runtime settings as the Dockerfile's final stage declares them: its base (FROM),
// USER, ENV, WORKDIR, EXPOSE and CMD as an OCI/Docker image config, and the paths its COPY lines
// fill. The Dockerfile owns them; scripts/build-image.sh, which builds the same image without a
// container engine, reads them here instead of repeating them.
//
//   npx tsx scripts/image-config.ts [Dockerfile] from     the final stage's base image
//   npx tsx scripts/image-config.ts [Dockerfile] config [NAME=VALUE...]
//                                                         the image config (JSON); NAME=VALUE are the
//                                                         base image's environment, which ENV overrides
//   npx tsx scripts/image-config.ts [Dockerfile] paths    the absolute paths COPY writes, one a line
//
// Only what a runtime stage needs is understood: any other instruction there (RUN, ARG, ADD,
// VOLUME, ...) is an error, so a Dockerfile change that the other build cannot follow fails loudly
// instead of building a different image.
import { readFileSync } from 'node:fs'
import { posix } from 'node:path'
import { pathToFileURL } from 'node:url'

export interface ImageConfig {
  User?: string
  Env: string[]
  WorkingDir?: string
  ExposedPorts?: Record<string, Record<string, never>>
  Entrypoint?: string[]
  Cmd?: string[]
  Labels?: Record<string, string>
}

export interface Copy {
  /** --from=<stage or image>; undefined for the build context. */
  from: string | undefined
  sources: string[]
  /** The absolute destination as written (resolved against WORKDIR). */
  dest: string
  /** The paths it fills: dest, or dest/<basename> of each source when dest is a directory. */
  paths: string[]
}

export interface FinalStage {
  from: string
  /** The config the stage's instructions set (ENV only what the stage sets; see withBaseEnv). */
  config: ImageConfig
  copies: Copy[]
}

interface Instruction {
  keyword: string
  args: string
  line: number
}

/** Logical lines: comments dropped, continuations (a trailing backslash) joined. */
export function instructions(text: string): Instruction[] {
  const out: Instruction[] = []
  let pending = ''
  let start = 0
  const lines = text.split('\n')
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, '')
    // Comment lines are dropped, also inside a continuation (as Docker does).
    if (/^\s*#/.test(line)) return
    if (pending === '' && line.trim() === '') return
    if (pending === '') start = i + 1
    if (/\\\s*$/.test(line)) {
      pending += line.replace(/\\\s*$/, '') + ' '
      return
    }
    const full = (pending + line).trim()
    pending = ''
    if (full === '') return
    const match = /^(\S+)\s*(.*)$/s.exec(full)
    if (match) out.push({ keyword: (match[1] ?? '').toUpperCase(), args: (match[2] ?? '').trim(), line: start })
  })
  if (pending.trim() !== '') throw new Error(`line ${String(start)}: a continuation runs past the end of the file`)
  return out
}

/** Words of a shell-like argument list: whitespace-separated, with "double" and 'single' quotes and backslash escapes. */
export function words(text: string): string[] {
  const out: string[] = []
  let word = ''
  let inWord = false
  let quote: '"' | "'" | undefined
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? ''
    if (quote !== undefined) {
      if (c === quote) quote = undefined
      else if (c === '\\' && quote === '"' && i + 1 < text.length) word += text[++i] ?? ''
      else word += c
    } else if (c === '"' || c === "'") {
      quote = c
      inWord = true
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i] ?? ''
      inWord = true
    } else if (/\s/.test(c)) {
      if (inWord) out.push(word)
      word = ''
      inWord = false
    } else {
      word += c
      inWord = true
    }
  }
  if (quote !== undefined) throw new Error(`unterminated ${quote} in: ${text}`)
  if (inWord) out.push(word)
  return out
}

/** CMD/ENTRYPOINT: the exec form (a JSON array of strings) as it is, the shell form through /bin/sh -c. */
function command(args: string): string[] {
  if (args.startsWith('[')) {
    const parsed = JSON.parse(args) as unknown
    if (!Array.isArray(parsed) || !parsed.every((a): a is string => typeof a === 'string')) throw new Error(`not a JSON array of strings: ${args}`)
    return parsed
  }
  return ['/bin/sh', '-c', args]
}

/** ENV key=value ... (several pairs, quoted values) or the legacy ENV key value (one pair, the rest of the line). */
function envPairs(args: string): [string, string][] {
  const first = /^(\S+)/.exec(args)?.[1] ?? ''
  if (!first.includes('=')) {
    const m = /^(\S+)\s+(.*)$/s.exec(args)
    if (!m) throw new Error(`ENV without a value: ${args}`)
    return [[m[1] ?? '', m[2] ?? '']]
  }
  return words(args).map((w) => {
    const eq = w.indexOf('=')
    if (eq <= 0) throw new Error(`ENV expects key=value, got: ${w}`)
    return [w.slice(0, eq), w.slice(eq + 1)]
  })
}

function copy(args: string, workdir: string): Copy {
  let rest = words(args.startsWith('[') ? '' : args)
  if (args.startsWith('[')) rest = command(args)
  let from: string | undefined
  const flags: string[] = []
  while (rest[0]?.startsWith('--') === true) {
    const flag = rest.shift() ?? ''
    if (flag.startsWith('--from=')) from = flag.slice('--from='.length)
    else flags.push(flag)
  }
  if (flags.length > 0) throw new Error(`COPY ${flags.join(' ')}: only --from is understood in the final stage`)
  if (rest.length < 2) throw new Error(`COPY needs a source and a destination: ${args}`)
  const destWritten = rest[rest.length - 1] ?? ''
  const sources = rest.slice(0, -1)
  const dest = posix.resolve(workdir, destWritten)
  const intoDir = destWritten.endsWith('/') || sources.length > 1
  const paths = intoDir ? sources.map((s) => posix.join(dest, posix.basename(s))) : [dest]
  return { from, sources, dest, paths }
}

/** The last stage of a Dockerfile: its base and what its instructions set. */
export function finalStage(text: string): FinalStage {
  const all = instructions(text)
  let lastFrom = -1
  all.forEach((ins, i) => {
    if (ins.keyword === 'FROM') lastFrom = i
  })
  const fromIns = all[lastFrom]
  if (fromIns === undefined) throw new Error('no FROM')
  const fromWords = words(fromIns.args).filter((w) => !w.startsWith('--'))
  const from = fromWords[0] ?? ''
  const config: ImageConfig = { Env: [] }
  const env = new Map<string, string>()
  const copies: Copy[] = []
  let workdir = '/'
  for (const ins of all.slice(lastFrom + 1)) {
    const where = `Dockerfile line ${String(ins.line)}, ${ins.keyword}`
    try {
      switch (ins.keyword) {
        case 'WORKDIR':
          workdir = posix.resolve(workdir, ins.args)
          config.WorkingDir = workdir
          break
        case 'USER':
          config.User = ins.args
          break
        case 'ENV':
          for (const [k, v] of envPairs(ins.args)) env.set(k, v)
          break
        case 'EXPOSE':
          config.ExposedPorts ??= {}
          for (const p of words(ins.args)) config.ExposedPorts[p.includes('/') ? p : `${p}/tcp`] = {}
          break
        case 'CMD':
          config.Cmd = command(ins.args)
          break
        case 'ENTRYPOINT':
          config.Entrypoint = command(ins.args)
          break
        case 'LABEL':
          config.Labels ??= {}
          for (const [k, v] of envPairs(ins.args)) config.Labels[k] = v
          break
        case 'COPY':
          copies.push(copy(ins.args, workdir))
          break
        default:
          throw new Error('not understood in the final stage (scripts/image-config.ts reads only WORKDIR, USER, ENV, EXPOSE, CMD, ENTRYPOINT, LABEL and COPY --from)')
      }
    } catch (error) {
      throw new Error(`${where}: ${(error as Error).message}`, { cause: error })
    }
  }
  config.Env = [...env].map(([k, v]) => `${k}=${v}`)
  return { from, config, copies }
}

/** The config with the base image's environment under the stage's own (an ENV of the stage wins). */
export function withBaseEnv(config: ImageConfig, base: string[]): ImageConfig {
  const env = new Map<string, string>()
  for (const pair of [...base, ...config.Env]) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new Error(`not NAME=VALUE: ${pair}`)
    env.set(pair.slice(0, eq), pair.slice(eq + 1))
  }
  return { ...config, Env: [...env].map(([k, v]) => `${k}=${v}`) }
}

/**
 * The Node.js flags of the stage's CMD, which must be `node [--flag...] <script>`: what every
 * other way of starting the server (npm start, the e2e harness, the benchmarks) runs it with, so
 * that they measure the process the image runs.
 */
export function nodeFlags(stage: FinalStage): string[] {
  const cmd = stage.config.Cmd ?? []
  const flags = cmd.slice(1, -1)
  if (cmd[0] !== 'node' || cmd.length < 2 || !flags.every((f) => f.startsWith('--'))) {
    throw new Error(`CMD must be ["node", "--flag", ..., "<script>"], not ${JSON.stringify(cmd)}`)
  }
  return flags
}

/** nodeFlags of the repository's Dockerfile. */
export function dockerfileNodeFlags(dockerfile: string): string[] {
  return nodeFlags(finalStage(readFileSync(dockerfile, 'utf8')))
}

function main(argv: string[]): void {
  const [file, what, ...rest] = argv.length > 0 && !['from', 'config', 'paths'].includes(argv[0] ?? '') ? argv : ['Dockerfile', ...argv]
  const stage = finalStage(readFileSync(file ?? 'Dockerfile', 'utf8'))
  if (what === 'from') process.stdout.write(`${stage.from}\n`)
  else if (what === 'config') process.stdout.write(`${JSON.stringify(withBaseEnv(stage.config, rest))}\n`)
  else if (what === 'paths') process.stdout.write(stage.copies.flatMap((c) => c.paths).map((p) => `${p}\n`).join(''))
  else {
    process.stderr.write('usage: npx tsx scripts/image-config.ts [Dockerfile] from | config [NAME=VALUE...] | paths\n')
    process.exit(2)
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main(process.argv.slice(2))
  } catch (error) {
    process.stderr.write(`image-config: ${(error as Error).message}\n`)
    process.exit(1)
  }
}
