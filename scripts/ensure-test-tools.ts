/**
 * Run by `pnpm test` before the suite, for the two things the tests use from outside npm:
 * - a real headless Chromium for the dashboard's end-to-end tests (CHROMIUM_PATH or /usr/bin/chromium;
 *   playwright's own browser download cannot work offline): Debian's `chromium`;
 * - Prometheus's own Python client, whose parser reads the metrics endpoint's text in the tests (no
 *   npm package parses labelled histograms correctly): Debian's `python3-prometheus-client`.
 * When one is missing and this user may install Debian packages, it is installed; otherwise the
 * message says what to install. `chromium` as the only argument checks Chromium alone (screenshots).
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const PYTHON = '/usr/bin/python3'
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const onlyChromium = process.argv[2] === 'chromium'

const hasParser = () =>
  existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import prometheus_client.parser']).status === 0

const missing: { name: string; package: string }[] = []
if (!existsSync(chromium)) missing.push({ name: `Chromium (at ${chromium})`, package: 'chromium' })
if (!onlyChromium && !hasParser()) {
  missing.push({ name: "Prometheus's Python client", package: 'python3-prometheus-client' })
}

if (missing.length > 0) {
  const packages = missing.map((m) => m.package)
  const root = process.getuid?.() === 0
  if (!root || !existsSync('/usr/bin/apt-get')) {
    console.error(
      `The tests need ${missing.map((m) => m.name).join(' and ')}.\n` +
        `Install them (Debian/Ubuntu: \`sudo apt-get install -y ${packages.join(' ')}\`)` +
        ' or set CHROMIUM_PATH to your Chromium.',
    )
    process.exit(1)
  }
  console.log(`Installing ${packages.join(', ')} (Debian packages) for the tests…`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
  execFileSync('apt-get', ['install', '-y', '-qq', ...packages], { stdio: 'inherit', env })
}
