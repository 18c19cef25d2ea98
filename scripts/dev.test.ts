import { mkdtempSync, symlinkSync, copyFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { ROOT } from '../test/build'
import { applyLocalMigrations, devVars } from './dev'

test('pnpm dev applies the migrations to the local D1 with one line of output, and says when there is nothing to do', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyrelay-dev-'))
  copyFileSync(join(ROOT, 'wrangler.toml'), join(dir, 'wrangler.toml'))
  for (const entry of ['migrations', 'node_modules']) symlinkSync(join(ROOT, entry), join(dir, entry))
  const path = process.env.PATH
  process.env.PATH = `${join(ROOT, 'node_modules/.bin')}:${path}`
  try {
    const first = applyLocalMigrations(dir)
    expect(first).toMatch(/^✓ Applied (\d+) migration\(s\) to the local D1 \(\1 in all\)$/)
    expect(applyLocalMigrations(dir)).toMatch(/^✓ Local D1 up to date \(\d+ migrations\)$/)
  } finally {
    process.env.PATH = path
  }
}, 60_000)

test('pnpm dev flushes usage every 5 s locally, unless .dev.vars says otherwise', () => {
  expect(devVars('AUTH_KEY=x\n')).toEqual(['--var', 'STATS_FLUSH_SECONDS:5'])
  expect(devVars('AUTH_KEY=x\nSTATS_FLUSH_SECONDS=30\n')).toEqual([])
})
