// The hook as a real server process started from the checkout (src/server.ts through tsx), on
// loopback, with the Node.js flags of the image's CMD (the Dockerfile owns them). PORT 0 picks a
// free port; pass one to restart a hook at the same address.
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { dockerfileNodeFlags } from '../scripts/image-config.js'
import { ROOT } from './root.js'

/** The Node.js flags the image runs the server with (Dockerfile CMD). */
export const hookNodeFlags = (): string[] => dockerfileNodeFlags(join(ROOT, 'Dockerfile'))

export interface HookProcess {
  child: ChildProcess
  /** Resolves to the base URL once the server listens; rejects if it exits first. */
  listening: Promise<string>
  exited: Promise<number | null>
  output(): string
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>
}

/** The environment without tap's coverage hooks: a spawned process's transpiled lines would be merged into src/ wrongly. */
function withoutCoverage(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => k !== 'NODE_V8_COVERAGE' && k !== 'NODE_OPTIONS' && !k.startsWith('_TAPJS')))
}

/** `entry`: src/server.ts through tsx (default), or a compiled dist/server.js as production runs it (npm run build first). */
export function startHookProcess(env: Record<string, string> = {}, entry: 'src' | 'dist' = 'src'): HookProcess {
  const args = [...hookNodeFlags(), ...(entry === 'src' ? ['--import', 'tsx', join(ROOT, 'src', 'server.ts')] : [join(ROOT, 'dist', 'server.js')])]
  const child = spawn(process.execPath, args, {
    env: { ...withoutCoverage(process.env), HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr.on('data', (d: Buffer) => (output += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const listening = new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (match?.[1]) {
        clearInterval(timer)
        resolve(match[1])
      }
    }, 50)
    void exited.then(() => {
      clearInterval(timer)
      reject(new Error(`hook exited before listening:\n${output}`))
    })
  })
  const stop = async (graceMs = 5000) => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    await exited
    clearTimeout(timer)
  }
  return { child, listening, exited, output: () => output, stop }
}
