import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { ROOT } from './build'

// The README is a front door (issue 27): read in five minutes, every link and command real.
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>
}

/** The README's prose: everything outside code blocks and tables. */
function prose(text: string): string[] {
  let code = false
  return text.split('\n').filter((line) => {
    if (line.startsWith('```')) code = !code
    return !code && !line.startsWith('```') && !line.startsWith('|')
  })
}

test('at most 250 lines, and no prose line over 120 characters', () => {
  expect(readme.split('\n').length).toBeLessThanOrEqual(250)
  expect(prose(readme).filter((line) => line.length > 120)).toEqual([])
})

test('every relative link and image points at a file of the repository', () => {
  for (const page of [
    'README.md',
    ...[
      'api',
      'benchmarks',
      'configuration',
      'd1-cost',
      'deploying',
      'development',
      'how-it-works',
      'profile',
      'security',
    ].map((p) => `docs/${p}.md`),
  ]) {
    const text = readFileSync(join(ROOT, page), 'utf8')
    const dir = join(ROOT, page, '..')
    for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
      if (/^https?:/.test(target!)) continue
      expect(existsSync(join(dir, target!)), `${page} → ${target}`).toBe(true)
    }
  }
})

test('every `pnpm <name>` the README prints is one of our scripts, not a command of pnpm itself', () => {
  // pnpm's own commands would run instead of a script of the same name (pnpm doctor, for one).
  const BUILTIN = [
    'install',
    'add',
    'doctor',
    'setup',
    'update',
    'remove',
    'link',
    'store',
    'exec',
    'dlx',
    'run',
  ]
  const named = [...readme.matchAll(/pnpm(?:@10)?(?: --silent)? ([a-z][\w:-]*)/g)].map((m) => m[1]!)
  expect(named.length).toBeGreaterThan(3)
  for (const name of named) {
    if (name === 'install') continue
    expect(BUILTIN, name).not.toContain(name)
    expect(Object.keys(pkg.scripts), name).toContain(name)
  }
})
