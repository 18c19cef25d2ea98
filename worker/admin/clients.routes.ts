import type { IRequest } from 'itty-router'
import { AuthKeyFormatError, parseAllow } from '../auth/auth-key'
import { clientBookFor } from '../clients/book'
import { clientKeyHash, clientKeyHint, newClientKey } from '../clients/issue'
import { dayPeriod, monthPeriod, QUOTA_NAMES, tokensOf, zeroTotals, type Totals } from '../clients/quotas'
import { loadConfig, type Env } from '../config'
import {
  clientTotals,
  deleteClient,
  insertClient,
  updateClient,
  type ClientRow,
  type PeriodTotals,
} from '../db/clients.repo'
import { AppError } from '../http/errors'
import { wholeNumber } from '../http/schema'
import { isProviderId } from '../providers/registry'
import { settleAll } from '../db/shared-read'
import { adminBody } from './body'
import { clientTotalsShared, liveClientsView } from './client-view'
import { CreateClientBody, PatchClientBody } from './clients.schemas'

const ClientIdParam = wholeNumber(1, Number.MAX_SAFE_INTEGER)
const DAYS_SHOWN = 7

/** `POST /admin/api/clients`: issues a client key; the key is in this answer and nowhere else, ever. */
export async function createClient(request: Request, env: Env): Promise<Response> {
  const body = await adminBody(request, env, CreateClientBody)
  const now = Math.floor(Date.now() / 1000)
  const allow = checkedAllow(body.allow)
  checkExpiry(body.expiresAt, now)
  const key = newClientKey()
  const row = await insertClient(env.DB, {
    name: body.name,
    keyHash: clientKeyHash(key),
    keyHint: clientKeyHint(key),
    allow,
    expiresAt: body.expiresAt ?? null,
    storedObjects: body.storedObjects ?? false,
    quotas: JSON.stringify(body.quotas ?? {}),
    createdAt: now,
  })
  changed(env)
  return Response.json({ client: present(row, new Map(), now), key }, { status: 201 })
}

/** Every client's totals today and this month, at most one stats flush interval old (a minute at most). */
const todayAndMonth = (env: Env, nowMs: number) =>
  clientTotalsShared(
    env.DB,
    [dayPeriod(nowMs), monthPeriod(nowMs)],
    Math.min(60_000, loadConfig(env).statsFlushMs),
  )

/** `GET /admin/api/clients`: every client key (masked) with today's and this month's usage. */
export async function listClients(_request: Request, env: Env): Promise<Response> {
  const nowMs = Date.now()
  const [rows, totals] = await settleAll([liveClientsView(env.DB), todayAndMonth(env, nowMs)])
  const usage = byClient(totals)
  return Response.json({ clients: rows.map((r) => present(r, usage.get(r.id) ?? new Map(), nowMs / 1000)) })
}

/** `GET /admin/api/clients/:id`: one client key, with its usage per UTC day over the last week. */
export async function getClient(request: IRequest, env: Env): Promise<Response> {
  const id = clientId(request)
  const nowMs = Date.now()
  const periods = Array.from({ length: DAYS_SHOWN }, (_, i) =>
    dayPeriod(nowMs - (DAYS_SHOWN - 1 - i) * 86_400_000),
  )
  // Its own days by key (period, client): a range of days would read every client's rows in it.
  const [rows, totals, daily] = await settleAll([
    liveClientsView(env.DB),
    todayAndMonth(env, nowMs),
    clientTotals(env.DB, [id], periods),
  ])
  const row = rows.find((r) => r.id === id)
  if (!row) throw notFound(id)
  const perDay = new Map(daily.map((d) => [d.period, d]))
  const days = periods.map((period) => ({
    day: period.slice(2),
    ...presentTotals(perDay.get(period) ?? zeroTotals()),
  }))
  return Response.json({
    client: present(row, byClient(totals).get(id) ?? new Map(), nowMs / 1000),
    days,
  })
}

/** `PATCH /admin/api/clients/:id`: changes what is given; `quotas` replaces the whole set. */
export async function patchClient(request: IRequest, env: Env): Promise<Response> {
  const id = clientId(request)
  const body = await adminBody(request, env, PatchClientBody)
  const now = Math.floor(Date.now() / 1000)
  const allow = body.allow === undefined ? undefined : checkedAllow(body.allow)
  checkExpiry(body.expiresAt, now)
  const row = await updateClient(env.DB, id, {
    ...(body.name !== undefined ? { name: body.name } : {}),
    ...(allow !== undefined ? { allow } : {}),
    ...(body.expiresAt !== undefined ? { expiresAt: body.expiresAt } : {}),
    ...(body.storedObjects !== undefined ? { storedObjects: body.storedObjects } : {}),
    ...(body.status !== undefined ? { status: body.status } : {}),
    ...(body.quotas !== undefined ? { quotas: JSON.stringify(body.quotas) } : {}),
  })
  if (!row) throw notFound(id)
  changed(env)
  return Response.json({ client: present(row, new Map(), now) })
}

/** `DELETE /admin/api/clients/:id`: the key stops working within POOL_REFRESH_SECONDS everywhere. */
export async function removeClient(request: IRequest, env: Env): Promise<Response> {
  const id = clientId(request)
  if (!(await deleteClient(env.DB, id, Math.floor(Date.now() / 1000)))) throw notFound(id)
  changed(env)
  return Response.json({ deleted: id })
}

/** This isolate's requests see a change at once; other isolates within POOL_REFRESH_SECONDS. */
function changed(env: Env): void {
  clientBookFor(env.DB, loadConfig(env).poolRefreshMs).invalidate()
}

function clientId(request: IRequest): number {
  const id = ClientIdParam.safeParse(request.params.id)
  if (!id.success) throw new AppError(400, 'invalid_id', 'The client id must be a positive integer')
  return id.data
}

const notFound = (id: number) => new AppError(404, 'client_not_found', `No client key with id ${id}`)

/**
 * The allow-list as stored: AUTH_KEY's rule grammar, every provider a known one (a typo would
 * otherwise allow nothing, silently). Empty means everything.
 */
function checkedAllow(allow: string | null | undefined): string | null {
  const text = allow?.replace(/\s+/g, '') ?? ''
  if (text === '') return null
  let rules: Map<string, Set<string>>
  try {
    rules = parseAllow(text)
  } catch (e) {
    if (!(e instanceof AuthKeyFormatError)) throw e
    throw new AppError(
      400,
      'invalid_allow',
      'allow must read provider,model,model&provider (a provider alone allows all its models)',
    )
  }
  const unknown = [...rules.keys()].filter((p) => !isProviderId(p))
  if (unknown.length > 0) {
    throw new AppError(
      400,
      'invalid_allow',
      `allow names unknown provider(s): ${unknown.slice(0, 5).join(', ')}`,
    )
  }
  return text
}

function checkExpiry(expiresAt: number | null | undefined, now: number): void {
  if (typeof expiresAt === 'number' && expiresAt <= now) {
    throw new AppError(
      400,
      'invalid_body',
      'expiresAt: must be in the future (unix seconds); disable the key instead',
    )
  }
}

function byClient(totals: PeriodTotals[]): Map<number, Map<string, Totals>> {
  const out = new Map<number, Map<string, Totals>>()
  for (const { clientId: id, period, ...t } of totals) {
    const periods = out.get(id) ?? new Map<string, Totals>()
    periods.set(period, t)
    out.set(id, periods)
  }
  return out
}

const presentTotals = (t: Totals) => ({
  requests: t.requests,
  inputTokens: t.input,
  outputTokens: t.output,
  cachedTokens: t.cached,
  tokens: tokensOf(t),
})

/** A client as listings show it: masked, never the key or its hash. */
function present(row: ClientRow, usage: Map<string, Totals>, nowSeconds: number) {
  const nowMs = nowSeconds * 1000
  const quotas = JSON.parse(row.quotas) as Record<string, number>
  return {
    id: row.id,
    name: row.name,
    keyHint: row.keyHint,
    allow: row.allow,
    expiresAt: row.expiresAt,
    expired: row.expiresAt !== null && row.expiresAt <= nowSeconds,
    storedObjects: row.storedObjects === 1,
    status: row.status,
    quotas: Object.fromEntries(QUOTA_NAMES.filter((q) => quotas[q] !== undefined).map((q) => [q, quotas[q]])),
    createdAt: row.createdAt,
    usage: {
      today: presentTotals(usage.get(dayPeriod(nowMs)) ?? zeroTotals()),
      month: presentTotals(usage.get(monthPeriod(nowMs)) ?? zeroTotals()),
    },
  }
}
