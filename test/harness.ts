import { Miniflare } from 'miniflare'
import { readdirSync, readFileSync } from 'node:fs'
import { BUNDLE, compatibilityDate, ROOT, workerFirstRoutes } from './build'
import { MockGateway } from './gateway/mock-gateway'
import { SQL_HOST, SQL_WORKER_SCRIPT, sqlClient } from './sql-client'

export const AUTH_KEY = 'kr-test-admin-0b7d1f2c9a4e4b6f'
/** The test deployment's ENCRYPTION_KEY (provider keys are sealed with a key derived from it). */
export const ENCRYPTION_KEY = 'kr-test-encryption-key-5d1c0e7a9b3f4e2d8c6a'
export const ORIGIN = 'http://keyrelay.test'

export interface Harness {
  mf: Miniflare
  /** `http://127.0.0.1:<port>` where the Worker listens, for real HTTP clients. */
  url: string
  gateway: MockGateway
  d1: D1Database
  /** Every line the Worker wrote to stdout/stderr. */
  logs: string[]
  fetch(path: string, init?: RequestInit): Promise<Response>
  /** Adds keys through the admin API; returns their ids in the order given. */
  addKeys(provider: string, keys: string[]): Promise<number[]>
  /**
   * Issues a client key through the admin API. The key joins the leak check, and the gateway treats
   * it as it treats AUTH_KEY: seeing it upstream is a violation.
   */
  issueClient(body: Record<string, unknown>): Promise<{ id: number; key: string }>
  /** Deletes every key through the admin API, so the Worker's pool view sees it. */
  clearKeys(): Promise<void>
  /** Runs the scheduled handler once, as the Cron Trigger (wrangler.toml) would. */
  cron(): Promise<void>
  dispose(): Promise<void>
}

/**
 * Where the suite departs from the deployed defaults, and why: usage shows within seconds (as
 * `pnpm dev` runs; deployed: 60 s), and no storm steering (deployed: 2 s), since most tests assert
 * the exact rotation right after a 429 or a block. Storm steering has its own tests (view.test.ts,
 * rotation.test.ts, the reliability load test) and the benchmark, which run the deployed default.
 */
const TEST_DEFAULTS = { STATS_FLUSH_SECONDS: '5', STORM_SECONDS: '0' }

export interface HarnessOptions {
  /** Run with the deployed defaults rather than TEST_DEFAULTS (the benchmark, storm tests). */
  deployedDefaults?: boolean
  authKey?: string
  vars?: Record<string, string>
  gateway?: MockGateway
  /** Share one D1 between instances (several isolates) by pointing them at the same directory. */
  d1Persist?: string
  applyMigrations?: boolean
  port?: number
  /** The bundle to run (default: the one the test run built). */
  scriptPath?: string
  /** Serve the dashboard from ui/ as static assets, as wrangler.toml does (default true). */
  assets?: boolean
  /** Replaces the stand-in gateway entirely (the benchmark's fixed-delay upstream). */
  upstream?: { base: string; handle: (request: Request) => Promise<Response> }
  /** Exposes the Worker to a V8 inspector client on this port, at `/keyrelay` (the CPU profile). */
  inspectorPort?: number
}

/**
 * Runs the committed migrations the way wrangler does: files in name order, split at breakpoints,
 * each recorded in wrangler's own `d1_migrations` table (the setup check reads it).
 */
export async function applyMigrations(d1: D1Database): Promise<void> {
  const dir = `${ROOT}migrations`
  await d1
    .prepare(
      'CREATE TABLE IF NOT EXISTS d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)',
    )
    .run()
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()) {
    const statements = readFileSync(`${dir}/${file}`, 'utf8')
      .split('--> statement-breakpoint')
      .map((s) => s.trim())
      .filter(Boolean)
    // One batch per file, as wrangler applies it (all or nothing), in one round trip.
    await d1.batch([
      ...statements.map((statement) => d1.prepare(statement)),
      d1.prepare('INSERT INTO d1_migrations (name) VALUES (?1)').bind(file),
    ])
  }
}

export async function startWorker(options: HarnessOptions = {}): Promise<Harness> {
  const authKey = options.authKey ?? AUTH_KEY
  const gateway = options.gateway ?? new MockGateway()
  gateway.forbidden = authKey
    .split(';')
    .map((e) => e.trim().split(/[(=]/)[0] ?? '')
    .filter(Boolean)
  const logs: string[] = []
  const collect = (stream: NodeJS.ReadableStream) =>
    stream.on('data', (chunk: Buffer) => logs.push(...chunk.toString().split('\n').filter(Boolean)))

  const d1Databases = { DB: 'keyrelay-test' }
  const mf = new Miniflare({
    // A real HTTP listener on a free port, for the SDK tests and the demo.
    host: '127.0.0.1',
    port: options.port ?? 0,
    ...(options.d1Persist ? { d1Persist: options.d1Persist } : {}),
    ...(options.inspectorPort ? { inspectorPort: options.inspectorPort } : {}),
    handleRuntimeStdio: (stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream) => {
      collect(stdout)
      collect(stderr)
    },
    workers: [
      {
        name: 'keyrelay',
        modules: true,
        ...(options.inspectorPort ? { unsafeInspectorProxy: true } : {}),
        scriptPath: options.scriptPath ?? BUNDLE,
        ...(options.assets === false
          ? {}
          : {
              assets: {
                directory: `${ROOT}ui`,
                routerConfig: { has_user_worker: true, static_routing: { user_worker: workerFirstRoutes() } },
              },
            }),
        compatibilityDate: compatibilityDate(),
        d1Databases,
        bindings: {
          AUTH_KEY: authKey,
          ENCRYPTION_KEY,
          GATEWAY_URL: options.upstream?.base ?? gateway.base,
          ...(options.deployedDefaults ? {} : TEST_DEFAULTS),
          ...options.vars,
        },
        outboundService: options.upstream?.handle ?? gateway.handle,
      },
      // The tests' way into the same D1 (sql-client.ts says why not Miniflare's D1 proxy).
      {
        name: 'sql',
        modules: true,
        script: SQL_WORKER_SCRIPT,
        d1Databases,
        routes: [`${SQL_HOST}/*`],
      },
    ],
  })
  const d1 = sqlClient(
    (body) =>
      mf.dispatchFetch(`http://${SQL_HOST}/`, {
        method: 'POST',
        body: JSON.stringify(body),
      }) as unknown as Promise<Response>,
  )
  if (options.applyMigrations !== false) await applyMigrations(d1)

  // The harness's own admin calls use the first AUTH_KEY entry's secret.
  const adminHeaders = {
    authorization: `Bearer ${authKey.split(/[(=;]/)[0]}`,
    'content-type': 'application/json',
  }
  const added = new Set<string>()
  /**
   * Every test file is also a leak check: when a Worker stops, no line it logged may contain the
   * AUTH_KEY or a provider key (added, or seen by the gateway), and the gateway must have seen no
   * violation (AUTH_KEY upstream, a request outside the base, a key in the wrong header).
   */
  const dispose = async () => {
    await mf.dispose()
    const secrets = [
      ...gateway.forbidden,
      ENCRYPTION_KEY,
      ...added,
      ...gateway.requests.map((r) => r.key ?? ''),
    ].filter((s) => s.length >= 8)
    const leaks = logs.filter((line) => secrets.some((s) => line.includes(s)))
    if (leaks.length > 0) throw new Error(`${leaks.length} log line(s) contain a secret`)
    if (gateway.violations.length > 0) throw new Error(`gateway violations: ${gateway.violations.join('; ')}`)
  }

  const fetch = (path: string, init?: RequestInit) =>
    mf.dispatchFetch(`${ORIGIN}${path}`, init as never) as unknown as Promise<Response>

  const url = (await mf.ready).origin
  let worker: Awaited<ReturnType<Miniflare['getWorker']>> | undefined
  return {
    mf,
    url,
    gateway,
    d1,
    logs,
    fetch,
    async addKeys(provider, keys) {
      keys.forEach((k) => added.add(k))
      const res = await fetch('/admin/api/keys', {
        method: 'POST',
        headers: adminHeaders,
        body: JSON.stringify({ provider, keys }),
      })
      if (res.status !== 200) throw new Error(`addKeys: ${res.status} ${await res.text()}`)
      // The add API answers each key's id, in the order given.
      return ((await res.json()) as { ids: number[] }).ids
    },
    async issueClient(body) {
      const res = await fetch('/admin/api/clients', {
        method: 'POST',
        headers: adminHeaders,
        body: JSON.stringify(body),
      })
      if (res.status !== 201) throw new Error(`issueClient: ${res.status} ${await res.text()}`)
      const { client, key } = (await res.json()) as { client: { id: number }; key: string }
      added.add(key)
      gateway.forbidden.push(key)
      return { id: client.id, key }
    },
    async cron() {
      // Miniflare's proxy, as there is no async way to a Worker that serves assets (its
      // /cdn-cgi/handler/scheduled and service bindings reach the assets router). One fetcher per
      // harness, so only its first call goes through the proxy's synchronous path.
      worker ??= await mf.getWorker('keyrelay')
      await worker.scheduled({ cron: '*/10 * * * *' })
    },
    async clearKeys() {
      const { results } = await d1
        .prepare("SELECT id FROM keys WHERE status != 'deleted'")
        .all<{ id: number }>()
      for (let i = 0; i < results.length; i += 10_000) {
        const ids = results.slice(i, i + 10_000).map((r) => r.id)
        const res = await fetch('/admin/api/keys', {
          method: 'DELETE',
          headers: adminHeaders,
          body: JSON.stringify({ ids }),
        })
        if (res.status !== 200) throw new Error(`clearKeys: ${res.status} ${await res.text()}`)
      }
    },
    dispose,
  }
}

/** Reads a key's stored state straight from D1. */
/** A key's cooldowns as stored: model → unix seconds. */
export async function cooldownsOf(d1: D1Database, id: number): Promise<Record<string, number>> {
  return JSON.parse((await keyRow(d1, id))!.cooldowns) as Record<string, number>
}

export async function keyRow(d1: D1Database, id: number) {
  return d1
    .prepare('SELECT status, blocked_reason, blocked_at, cooldowns, seq FROM keys WHERE id = ?')
    .bind(id)
    .first<{
      status: string
      blocked_reason: string | null
      blocked_at: number | null
      cooldowns: string
      seq: number
    }>()
}
