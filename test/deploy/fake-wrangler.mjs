#!/usr/bin/env node
/* global process */
// A stand-in for wrangler 4 on PATH: records its arguments and answers as the real CLI does (its JSON
// for `whoami --json`, `d1 list --json`, `secret list`; its text for `d1 create` and `deploy`).
// State lives in the JSON file FAKE_WRANGLER_STATE, so a scenario can be set up and inspected.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs'

const statePath = process.env.FAKE_WRANGLER_STATE
const state = JSON.parse(readFileSync(statePath, 'utf8'))
const args = process.argv.slice(2)
const save = () => writeFileSync(statePath, JSON.stringify(state, null, 2))
appendFileSync(
  process.env.FAKE_WRANGLER_LOG,
  JSON.stringify({ args, account: process.env.CLOUDFLARE_ACCOUNT_ID ?? null }) + '\n',
)
const has = (...words) => words.every((w, i) => args[i] === w)
const fail = (message, code = 1) => {
  process.stderr.write(`\n✘ [ERROR] ${message}\n\n`)
  process.exit(code)
}

if (has('whoami')) {
  if (!state.loggedIn) {
    process.stdout.write(JSON.stringify({ loggedIn: false }) + '\n')
    process.exit(1)
  }
  process.stdout.write(
    JSON.stringify(
      {
        loggedIn: true,
        authType: 'OAuth Token',
        email: 'dev@example.com',
        accounts: state.accounts,
        tokenPermissions: ['d1:write'],
      },
      null,
      2,
    ) + '\n',
  )
} else if (has('login')) {
  state.loggedIn = true
  save()
  process.stdout.write('Successfully logged in.\n')
} else if (has('d1', 'list')) {
  process.stdout.write(
    JSON.stringify(
      state.databases.map((d) => ({
        uuid: d.uuid,
        name: d.name,
        created_at: '2026-11-01T00:00:00.000Z',
        version: 'production',
        num_tables: 2,
        file_size: 12288,
        jurisdiction: null,
      })),
      null,
      2,
    ) + '\n',
  )
} else if (has('d1', 'create')) {
  if (state.failCreate)
    fail(
      `A request to the Cloudflare API (/accounts/${process.env.CLOUDFLARE_ACCOUNT_ID}/d1/database) failed.\n\n  You have reached the maximum number of D1 databases for your account. [code: 7406]`,
    )
  const uuid = '5a1c0f9e-7d3b-4c2a-9e8f-0123456789ab'
  state.databases.push({ uuid, name: args[2] })
  save()
  process.stdout.write(
    `✅ Successfully created DB '${args[2]}' in region WEUR\nCreated your new D1 database.\n\nTo access your new D1 Database in your Worker, add the following snippet to your configuration file:\n[[d1_databases]]\nbinding = "${args[2]}"\ndatabase_name = "${args[2]}"\ndatabase_id = "${uuid}"\n`,
  )
} else if (has('d1', 'migrations', 'apply')) {
  const pending = state.migrationsPending ?? 0
  state.migrationsPending = 0
  save()
  process.stdout.write(
    pending === 0 ? '✅ No migrations to apply!\n' : `🚣 ${pending} commands executed successfully.\n`,
  )
} else if (has('secret', 'list')) {
  if (!state.deployed) fail('This Worker does not exist on your account. [code: 10007]')
  process.stdout.write(JSON.stringify(state.secrets.map((name) => ({ name, type: 'secret_text' }))) + '\n')
} else if (has('deploy')) {
  const config = args[args.indexOf('--config') + 1]
  state.deployedConfig = readFileSync(config, 'utf8')
  const secretsFile = args.includes('--secrets-file') ? args[args.indexOf('--secrets-file') + 1] : undefined
  if (secretsFile) {
    const uploaded = JSON.parse(readFileSync(secretsFile, 'utf8'))
    state.secretValues = { ...state.secretValues, ...uploaded }
    state.secrets = [...new Set([...state.secrets, ...Object.keys(uploaded)])]
  }
  state.deployed = true
  state.deploys = (state.deploys ?? 0) + 1
  save()
  process.stdout.write(
    'Total Upload: 1032.09 KiB / gzip: 176.94 KiB\nUploaded keyrelay (3.21 sec)\nDeployed keyrelay triggers (1.02 sec)\n  https://keyrelay.dev-example.workers.dev\n  schedule: */10 * * * *\nCurrent Version ID: 0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9\n',
  )
} else {
  fail(`fake wrangler: unexpected command ${args.join(' ')}`)
}
