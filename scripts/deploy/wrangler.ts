/** Runs the project's wrangler (whatever `wrangler` is first on PATH: tests put a fake there). */
import { spawn } from 'node:child_process'

export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

export interface RunOptions {
  /** Inherit the terminal (for `wrangler login`). */
  interactive?: boolean
  env?: Record<string, string | undefined>
}

export function wrangler(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('wrangler', args, {
      stdio: options.interactive ? 'inherit' : ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', ...options.env },
    })
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', (e) => reject(e))
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }))
  })
}

/** The last lines of a failed command's output, for the error message. */
export function tail(result: RunResult, lines = 8): string {
  return `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-lines).join('\n')
}
