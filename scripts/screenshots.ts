/**
 * `pnpm screenshots`: regenerates the README's dashboard screenshots. The dashboard's end-to-end
 * suite drives the real Worker with real proxy traffic in headless Chromium and writes its
 * screenshots to test-results/ (gitignored); this runs it and copies the ones the README shows
 * into docs/screenshots/, so the committed images always come from a run, never from an editor.
 */
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const ROOT = join(import.meta.dirname, '..')
const FROM = join(ROOT, 'test-results')
const TO = join(ROOT, 'docs', 'screenshots')

/** Every page at 1280 and 390 px: login, overview (24 h and 7 days), keys, key detail, add, the edit form, client keys. */
const SHOTS = [
  'login.png',
  'login-phone.png',
  'overview-health.png',
  'overview-health-phone.png',
  'overview-week.png',
  'overview-week-phone.png',
  'keys-all.png',
  'keys-phone.png',
  'key-detail.png',
  'key-detail-phone.png',
  'add-keys.png',
  'add-keys-phone.png',
  'edit-key.png',
  'edit-key-phone.png',
  'clients.png',
  'clients-phone.png',
  'client-detail.png',
  'client-detail-phone.png',
  'overview-quota.png',
  'overview-quota-phone.png',
  'aliases.png',
  'aliases-phone.png',
]

execFileSync(
  process.execPath,
  ['--import', 'tsx', join(ROOT, 'scripts', 'ensure-test-tools.ts'), 'chromium'],
  {
    stdio: 'inherit',
  },
)
const started = Date.now()
execFileSync(
  process.execPath,
  [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'test/e2e/', '--reporter=dot'],
  { cwd: ROOT, stdio: 'inherit' },
)
mkdirSync(TO, { recursive: true })
for (const name of SHOTS) {
  const from = join(FROM, name)
  // A stale image from an earlier run must not pass for a new one.
  if (!existsSync(from) || statSync(from).mtimeMs < started) {
    console.error(`The e2e suite did not write ${name}: is it still taken in test/e2e/?`)
    process.exit(1)
  }
  copyFileSync(from, join(TO, name))
}
console.log(`${SHOTS.length} screenshots in docs/screenshots/.`)
