/** The steps of `pnpm deploycf`, in order. Each announces itself and fails with what to do next. */
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { z } from 'zod'
import { parseAuthKeys } from '../../worker/auth/auth-key'
import {
  DEPLOY_CONFIG,
  readBaseConfig,
  renderDeployConfig,
  writeDeployConfig,
  type BaseConfig,
} from './config'
import { ensureGateway, gatewaySteps } from './gateway'
import { choose, DeployError, done, info, interactive, step, wouldDo } from './ui'
import { tail, wrangler } from './wrangler'

export interface Context {
  dryRun: boolean
  /** False only in a dry run without a login: steps that need Cloudflare are described, not checked. */
  loggedIn?: boolean
  base: BaseConfig
  accountId?: string
  databaseId?: string
  /** Set when this run generated AUTH_KEY: shown once, at the end. */
  generatedAuthKey?: string
  url?: string
}

export function prerequisites(): Context['base'] {
  step('Checking prerequisites')
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
  if (major < 20 || (major === 20 && minor < 3)) {
    throw new DeployError(`Node ${process.versions.node} is too old`, 'Install Node 20.3 or newer.')
  }
  done(`Node ${process.versions.node}`)
  const agent = process.env.npm_config_user_agent ?? ''
  if (agent.startsWith('pnpm/')) done(agent.split(' ')[0] ?? 'pnpm')
  if (!existsSync('node_modules/wrangler/package.json')) {
    throw new DeployError('Dependencies are not installed', 'Run `pnpm install` first.')
  }
  done('dependencies installed')
  return readBaseConfig()
}

const Whoami = z.object({
  loggedIn: z.boolean(),
  accounts: z.array(z.object({ id: z.string(), name: z.string() })).optional(),
})

async function whoami() {
  const r = await wrangler(['whoami', '--json'])
  const parsed = Whoami.safeParse(safeJson(r.stdout))
  return parsed.success ? parsed.data : { loggedIn: false, accounts: [] }
}

export async function login(ctx: Context): Promise<void> {
  step('Cloudflare login')
  let me = await whoami()
  if (!me.loggedIn && interactive() && !ctx.dryRun) {
    info('not logged in: opening `wrangler login` in your browser')
    await wrangler(['login'], { interactive: true })
    me = await whoami()
  }
  if (!me.loggedIn && ctx.dryRun) {
    ctx.loggedIn = false
    info(
      'not logged in: a real run opens `wrangler login` (in CI: CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID)',
    )
    info('the steps below that need a login are shown as they would run, without checking your account')
    return
  }
  if (!me.loggedIn) {
    throw new DeployError(
      'Not logged in to Cloudflare',
      'Run `pnpm exec wrangler login`, or (in CI) set CLOUDFLARE_API_TOKEN to an API token with ' +
        'Workers Scripts, D1 and AI Gateway edit rights, and CLOUDFLARE_ACCOUNT_ID.',
    )
  }
  const accounts = me.accounts ?? []
  const wanted = process.env.CLOUDFLARE_ACCOUNT_ID
  if (wanted) {
    if (accounts.length > 0 && !accounts.some((a) => a.id === wanted)) {
      throw new DeployError(`CLOUDFLARE_ACCOUNT_ID is not one of your accounts`, listAccounts(accounts))
    }
    ctx.accountId = wanted
  } else if (accounts.length === 1) {
    ctx.accountId = accounts[0]?.id
  } else if (accounts.length > 1 && interactive()) {
    accounts.forEach((a, i) => info(`${i + 1}. ${a.name} (${a.id})`))
    ctx.accountId = accounts[(await choose('Which account?', accounts.length)) - 1]?.id
  } else {
    throw new DeployError(
      accounts.length === 0 ? 'No Cloudflare account found' : 'You have several Cloudflare accounts',
      `Set CLOUDFLARE_ACCOUNT_ID to the one to deploy to.\n${listAccounts(accounts)}`,
    )
  }
  done(`account ${ctx.accountId}`)
}

const listAccounts = (accounts: { id: string; name: string }[]) =>
  accounts.map((a) => `      ${a.id}  ${a.name}`).join('\n')

const accountEnv = (ctx: Context) => ({ CLOUDFLARE_ACCOUNT_ID: ctx.accountId, CI: 'true' })

const D1List = z.array(z.object({ uuid: z.string(), name: z.string() }))

async function findDatabase(ctx: Context): Promise<string | undefined> {
  const r = await wrangler(['d1', 'list', '--json'], { env: accountEnv(ctx) })
  const parsed = D1List.safeParse(safeJson(r.stdout))
  if (r.code !== 0 || !parsed.success) throw new DeployError('Could not list D1 databases', tail(r))
  return parsed.data.find((d) => d.name === ctx.base.databaseName)?.uuid
}

const needsLogin = (ctx: Context) => ctx.loggedIn === false

export async function database(ctx: Context): Promise<void> {
  step(`D1 database "${ctx.base.databaseName}"`)
  if (needsLogin(ctx)) {
    wouldDo(
      `(needs login) find it in \`wrangler d1 list\`, or create it: wrangler d1 create ${ctx.base.databaseName}`,
    )
    wouldDo(`write ${DEPLOY_CONFIG} (wrangler.toml plus account and database ids)`)
    return
  }
  ctx.databaseId = await findDatabase(ctx)
  if (ctx.databaseId) {
    done(`exists (${ctx.databaseId})`)
  } else if (ctx.dryRun) {
    wouldDo(`create it: wrangler d1 create ${ctx.base.databaseName}`)
  } else {
    const r = await wrangler(['d1', 'create', ctx.base.databaseName], { env: accountEnv(ctx) })
    if (r.code !== 0) {
      throw new DeployError(
        `Could not create the D1 database`,
        `${tail(r)}\nFix the cause above and run again.`,
      )
    }
    ctx.databaseId = await findDatabase(ctx)
    if (!ctx.databaseId) throw new DeployError('The new D1 database does not appear in `wrangler d1 list`')
    done(`created (${ctx.databaseId})`)
  }
  const config = renderDeployConfig(ctx.base, {
    accountId: ctx.accountId ?? '',
    databaseId: ctx.databaseId ?? '(created on a real run)',
  })
  if (ctx.dryRun) wouldDo(`write ${DEPLOY_CONFIG} (wrangler.toml plus account and database ids)`)
  else {
    writeDeployConfig(config)
    done(`${DEPLOY_CONFIG} written; wrangler.toml left as it is`)
  }
}

export async function migrations(ctx: Context): Promise<void> {
  step('Applying migrations to the remote database')
  if (ctx.dryRun) {
    wouldDo(
      `${needsLogin(ctx) ? '(needs login) ' : ''}run: wrangler d1 migrations apply DB --remote (only migrations not applied yet)`,
    )
    return
  }
  const r = await wrangler(['d1', 'migrations', 'apply', 'DB', '--remote', '--config', DEPLOY_CONFIG], {
    env: accountEnv(ctx),
  })
  if (r.code !== 0) throw new DeployError('Migrations failed', tail(r))
  done(/No migrations to apply/i.test(r.stdout) ? 'already up to date' : 'applied')
}

const SecretList = z.array(z.object({ name: z.string() }))

/** Secrets to upload with the deployment; an AUTH_KEY already set is kept unless one is given. */
export async function secrets(ctx: Context): Promise<Record<string, string>> {
  step('Secrets')
  if (needsLogin(ctx)) {
    wouldDo('(needs login) read which secrets are set: wrangler secret list')
    wouldDo(
      'upload AUTH_KEY (from the environment, or generated and shown once unless one is set) and ENCRYPTION_KEY (generated unless set, never shown), with the deployment',
    )
    return {}
  }
  const r = await wrangler(['secret', 'list', '--format', 'json', '--name', ctx.base.workerName], {
    env: accountEnv(ctx),
  })
  const parsed = SecretList.safeParse(safeJson(r.stdout))
  // Only "no such Worker yet" means "no secrets": on any other failure, guessing would replace the
  // AUTH_KEY every client uses.
  if (r.code !== 0 && !/\b10007\b|does not exist/i.test(`${r.stdout}${r.stderr}`)) {
    throw new DeployError("Could not list the Worker's secrets", tail(r))
  }
  const existing = new Set(r.code === 0 && parsed.success ? parsed.data.map((s) => s.name) : [])
  const upload: Record<string, string> = {}
  const given = process.env.AUTH_KEY
  if (given) {
    try {
      parseAuthKeys(given)
    } catch (e) {
      throw new DeployError(`AUTH_KEY ${(e as Error).message}`, 'See the AUTH_KEY grammar in the README.')
    }
    upload.AUTH_KEY = given
    info('AUTH_KEY: from the environment')
  } else if (existing.has('AUTH_KEY')) {
    done('AUTH_KEY: already set, kept')
  } else {
    ctx.generatedAuthKey = `kr-${randomBytes(32).toString('base64url')}`
    upload.AUTH_KEY = ctx.generatedAuthKey
    info('AUTH_KEY: generated (shown once, at the end)')
  }
  // ENCRYPTION_KEY seals provider keys in D1. Generated once and never printed: it exists only in
  // the Worker's secrets. Never replaced once set: keys sealed with it could not be opened again.
  const encryption = process.env.ENCRYPTION_KEY
  if (encryption) {
    if (encryption.length < 32) {
      throw new DeployError('ENCRYPTION_KEY is too short', 'Use a random secret of at least 32 characters.')
    }
    upload.ENCRYPTION_KEY = encryption
    info('ENCRYPTION_KEY: from the environment')
  } else if (existing.has('ENCRYPTION_KEY')) {
    done('ENCRYPTION_KEY: already set, kept')
  } else {
    upload.ENCRYPTION_KEY = randomBytes(32).toString('base64url')
    info('ENCRYPTION_KEY: generated (it encrypts provider keys in D1; kept only in Cloudflare, never shown)')
  }
  if (process.env.AI_GATEWAY_TOKEN) {
    upload.AI_GATEWAY_TOKEN = process.env.AI_GATEWAY_TOKEN
    info('AI_GATEWAY_TOKEN: from the environment')
  }
  if (ctx.dryRun && Object.keys(upload).length > 0)
    wouldDo(`upload ${Object.keys(upload).join(', ')} with the deployment`)
  return upload
}

export async function gateway(ctx: Context): Promise<void> {
  step(`AI Gateway "${ctx.base.aiGateway}"`)
  if (needsLogin(ctx)) {
    wouldDo(
      `(needs CLOUDFLARE_API_TOKEN with AI Gateway: Edit) create gateway "${ctx.base.aiGateway}" if it is missing`,
    )
    for (const line of gatewaySteps(ctx.base.aiGateway)) info(line)
    return
  }
  const state = await ensureGateway(ctx.accountId ?? '', ctx.base.aiGateway, ctx.dryRun)
  if (state === 'exists') done('exists')
  else if (state === 'created') done('created')
  else for (const line of gatewaySteps(ctx.base.aiGateway)) info(line)
}

export async function deploy(ctx: Context, upload: Record<string, string>): Promise<void> {
  step('Deploying the Worker')
  if (needsLogin(ctx)) {
    wouldDo(`(needs login) run: wrangler deploy --config ${DEPLOY_CONFIG} --secrets-file <temporary file>`)
    return
  }
  if (ctx.dryRun) {
    wouldDo(
      `run: wrangler deploy --config ${DEPLOY_CONFIG}${Object.keys(upload).length ? ' --secrets-file <temporary file>' : ''}`,
    )
    return
  }
  // Secrets go up with the deployment itself: never a moment where the new Worker runs without them.
  // The file lives only for the duration of this command, readable by this user alone.
  const dir = mkdtempSync(join(tmpdir(), 'keyrelay-deploy-'))
  const secretsFile = join(dir, 'secrets.json')
  const args = ['deploy', '--config', DEPLOY_CONFIG]
  if (Object.keys(upload).length > 0) {
    writeFileSync(secretsFile, JSON.stringify(upload), { mode: 0o600 })
    args.push('--secrets-file', secretsFile)
  }
  try {
    const r = await wrangler(args, { env: accountEnv(ctx) })
    if (r.code !== 0) throw new DeployError('wrangler deploy failed', tail(r))
    ctx.url = /https:\/\/[^\s]+\.workers\.dev/.exec(r.stdout)?.[0]
    done(ctx.url ? `deployed to ${ctx.url}` : 'deployed (no workers.dev URL: see your routes)')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
