// Polling the API server until something holds: what every e2e scenario waits with.

export interface WaitOptions {
  /** Give up after this long (default 90 s). */
  timeoutMs?: number
  /** More to say when giving up, such as the end of a component's log. */
  context?: () => string
}

/**
 * Calls `probe` every 500 ms until it returns something other than undefined or false, and
 * returns that. A probe that throws is tried again; its last error is part of the timeout's.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, options: WaitOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 90_000
  const deadline = Date.now() + timeoutMs
  let last: Error | undefined
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined && value !== false) return value
    } catch (error) {
      last = error instanceof Error ? error : new Error(String(error))
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${String(timeoutMs / 1000)} s waiting for ${what}${last ? `: ${last.message}` : ''}${options.context?.() ?? ''}`)
    }
    await new Promise((r) => setTimeout(r, 500))
  }
}
