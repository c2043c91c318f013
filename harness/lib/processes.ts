// The control plane's processes: each one's stdout and stderr go to <name>.log in the run's
// directory; start failures and early exits name the component with the end of its log; stop()
// sends SIGTERM, then SIGKILL to what is still running after a grace period.
import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, closeSync, constants, openSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => {
  try {
    accessSync(p, constants.X_OK)
    return true
  } catch {
    return false
  }
})

export class ComponentError extends Error {
  constructor(readonly component: string, message: string, readonly logFile: string) {
    super(`${component}: ${message}\n--- last 30 lines of ${logFile} (PCC_E2E_KEEP=1 keeps the run's directory) ---\n${tail(logFile, 30)}`)
    this.name = 'ComponentError'
  }
}

export function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').split('\n').filter((l, i, all) => l !== '' || i < all.length - 1).slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

export interface Managed {
  name: string
  child: ChildProcess
  logFile: string
  /** Resolves with the exit code (or the signal's name) when the process ends. */
  exited: Promise<number | string>
  /** Set once the process has ended. */
  exit: number | string | undefined
  /** Set when stopOne() or stopAll() asked it to end, so its exit is not reported as unexpected. */
  stopRequested?: boolean
}

export class Supervisor {
  readonly processes: Managed[] = []
  private stopping = false

  constructor(private readonly dir: string) {}

  logFile(name: string): string {
    return join(this.dir, `${name}.log`)
  }

  start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Managed {
    const logFile = this.logFile(name)
    const fd = openSync(logFile, 'a')
    let child: ChildProcess
    try {
      // setpriv (util-linux) makes the kernel SIGKILL the component if this process dies without
      // cleaning up (kill -9, a crash): no control plane outlives its test run.
      child = setpriv === undefined
        ? spawn(command, args, { stdio: ['ignore', fd, fd], env })
        : spawn(setpriv, ['--pdeathsig', 'KILL', '--', command, ...args], { stdio: ['ignore', fd, fd], env })
    } finally {
      closeSync(fd)
    }
    const managed: Managed = { name, child, logFile, exited: Promise.resolve(0), exit: undefined }
    managed.exited = new Promise((resolve) => {
      child.once('error', (error) => {
        managed.exit = `spawn error: ${error.message}`
        resolve(managed.exit)
      })
      child.once('exit', (code, signal) => {
        managed.exit = code ?? signal ?? 'unknown'
        if (!this.stopping && managed.stopRequested !== true) process.stderr.write(`e2e cluster: ${name} exited unexpectedly (${String(managed.exit)}); its log: ${logFile}\n`)
        resolve(managed.exit)
      })
    })
    this.processes.push(managed)
    return managed
  }

  /**
   * Polls check until it returns true, failing with the component's log if the process ends first
   * or timeoutMs passes. check may throw; the last error is reported.
   */
  async waitReady(managed: Managed, what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    let last = ''
    for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
      if (managed.exit !== undefined) throw new ComponentError(managed.name, `exited (${String(managed.exit)}) before ${what}`, managed.logFile)
      try {
        if (await check()) return
      } catch (error) {
        last = error instanceof Error ? error.message : String(error)
      }
      if (Date.now() > deadline) {
        throw new ComponentError(managed.name, `not ${what} after ${Math.round(timeoutMs / 1000)}s${last ? ` (last check: ${last})` : ''}`, managed.logFile)
      }
      await new Promise((r) => setTimeout(r, delay))
    }
  }

  /** Stops one process: SIGTERM, then SIGKILL after graceMs. */
  async stopOne(managed: Managed, graceMs = 5000): Promise<void> {
    if (managed.exit !== undefined) return
    managed.stopRequested = true
    managed.child.kill('SIGTERM')
    const timer = setTimeout(() => managed.child.kill('SIGKILL'), graceMs)
    await managed.exited
    clearTimeout(timer)
  }

  /** Stops every process but those named in `last` at once, then those, in the order given. */
  async stopAll(last: string[] = [], graceMs = 5000): Promise<void> {
    this.stopping = true
    await Promise.all(this.processes.filter((m) => !last.includes(m.name)).map((m) => this.stopOne(m, graceMs)))
    for (const name of last) for (const m of this.processes.filter((p) => p.name === name)) await this.stopOne(m, graceMs)
  }

  /** For process 'exit' handlers, which cannot wait: SIGKILL to everything still running. */
  killAllNow(): void {
    this.stopping = true
    for (const managed of this.processes) if (managed.exit === undefined) managed.child.kill('SIGKILL')
  }
}

export interface RunResult {
  code: number
  stdout: string
  stderr: string
  /** stdout and stderr interleaved as they came, for a message. */
  output: string
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** Written to its stdin; without it stdin is /dev/null, so a quick exit never meets a write. */
  input?: string
  /** Killed (SIGKILL) after this long; the result then has code 124. */
  timeoutMs: number
}

// Every short-lived command run() started and still running: SIGKILLed if this process exits first.
const running = new Set<ChildProcess>()
let exitHandler = false

/** Runs a short-lived command to its end and collects its output. Never throws: a failure to start is code 127. */
export function run(command: string, args: string[], options: RunOptions): Promise<RunResult> {
  if (!exitHandler) {
    exitHandler = true
    process.once('exit', () => running.forEach((c) => c.kill('SIGKILL')))
  }
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] })
    running.add(child)
    let stdout = ''
    let stderr = ''
    let output = ''
    child.stdout?.on('data', (d: Buffer) => ((stdout += d.toString()), (output += d.toString())))
    child.stderr?.on('data', (d: Buffer) => ((stderr += d.toString()), (output += d.toString())))
    // The command may exit before it reads its input (an error, or no input wanted): its exit says why.
    child.stdin?.on('error', () => undefined)
    child.stdin?.end(options.input)
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs)
    const done = (code: number, message?: string) => {
      clearTimeout(timer)
      running.delete(child)
      resolve({ code, stdout, stderr: message ?? stderr, output: message ?? output })
    }
    child.once('error', (error) => done(127, error.message))
    child.once('close', (code, signal) => done(signal === 'SIGKILL' ? 124 : (code ?? 1)))
  })
}
