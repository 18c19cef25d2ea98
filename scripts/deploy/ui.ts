/** How the deploy script talks to the person running it. */
import { createInterface } from 'node:readline/promises'

export class DeployError extends Error {
  constructor(
    message: string,
    /** What to do about it, printed under the error. */
    readonly hint?: string,
  ) {
    super(message)
  }
}

let stepNo = 0

export function step(title: string): void {
  stepNo++
  console.log(`\n[${stepNo}] ${title}`)
}

export const info = (text: string) => console.log(`    ${text}`)
export const done = (text: string) => console.log(`    ✓ ${text}`)
export const wouldDo = (text: string) => console.log(`    (dry run) would ${text}`)

export const interactive = () => Boolean(process.stdin.isTTY && process.stdout.isTTY) && !process.env.CI

/** Asks for a number between 1 and `max`; only called when interactive. */
export async function choose(question: string, max: number): Promise<number> {
  const rl = createInterface({ input: process.stdin, output: process.stdout })
  try {
    for (;;) {
      const answer = Number((await rl.question(`    ${question} [1-${max}]: `)).trim())
      if (Number.isInteger(answer) && answer >= 1 && answer <= max) return answer
    }
  } finally {
    rl.close()
  }
}
