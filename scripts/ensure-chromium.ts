/**
 * Run by `pnpm test` before the suite: the dashboard's end-to-end tests drive a real headless
 * Chromium. Uses CHROMIUM_PATH or /usr/bin/chromium; when missing and this user may install Debian
 * packages, installs Debian's `chromium` (playwright's own browser download cannot work offline).
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

if (!existsSync(path)) {
  const root = process.getuid?.() === 0
  if (!root || !existsSync('/usr/bin/apt-get')) {
    console.error(
      `Chromium is needed for the dashboard's end-to-end tests and was not found at ${path}.\n` +
        'Install it (Debian/Ubuntu: `sudo apt-get install -y chromium`) or set CHROMIUM_PATH.',
    )
    process.exit(1)
  }
  console.log('Installing Chromium (Debian package) for the end-to-end tests…')
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
  execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env })
}
