/**
 * `pnpm deploycf [--dry-run]`: from a fresh clone to a working keyrelay URL, and, run again, an
 * in-place update that changes nothing already right.
 */
import {
  database,
  deploy,
  gateway,
  login,
  migrations,
  prerequisites,
  secrets,
  type Context,
} from './deploy/steps'
import { DeployError } from './deploy/ui'

async function main(): Promise<void> {
  const dryRun = process.argv.includes('--dry-run')
  if (dryRun) console.log('Dry run: every step is shown, nothing is changed.')
  const ctx: Context = { dryRun, base: prerequisites() }
  await login(ctx)
  await database(ctx)
  await migrations(ctx)
  const upload = await secrets(ctx)
  await gateway(ctx)
  await deploy(ctx, upload)
  summary(ctx)
}

function summary(ctx: Context): void {
  if (ctx.dryRun) {
    console.log('\nDry run complete: run without --dry-run to do the above.')
    return
  }
  const url = ctx.url ?? 'https://<your worker>'
  console.log(`
keyrelay is deployed.

  Worker:     ${url}
  Dashboard:  ${url}/
  Admin API:  ${url}/admin/api/keys
${ctx.generatedAuthKey ? `\n  AUTH_KEY (generated now, shown only this once: keep it):\n    ${ctx.generatedAuthKey}\n` : ''}
Add keys (with AUTH_KEY exported in your shell):
  curl -X POST ${url}/admin/api/keys -H "Authorization: Bearer $AUTH_KEY" \\
    -H 'Content-Type: application/json' -d '{"provider": "google-ai-studio", "keys": ["AIza..."]}'

OpenAI-compatible clients:
  Base URL: ${url}/api/compat
  API key:  your AUTH_KEY
  Model:    google-ai-studio/gemini-2.5-flash (any <provider>/<model>)
`)
}

main().catch((e: unknown) => {
  if (e instanceof DeployError) {
    console.error(`\n✖ ${e.message}`)
    if (e.hint) console.error(e.hint.replace(/^/gm, '  '))
  } else {
    console.error(`\n✖ Unexpected failure: ${e instanceof Error ? e.message : String(e)}`)
  }
  process.exit(1)
})
