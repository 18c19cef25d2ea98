import * as z from '../http/schema'
import { entryAllows, entryAllowsProvider, type AuthEntry } from '../auth/auth-key'
import { aliasBookFor } from '../aliases/book'
import { splitModelId } from './compat-body'
import { AppError } from '../http/errors'
import { log } from '../log'
import { PROVIDERS } from '../providers/registry'
import { PROVIDER_IDS, type ProviderId } from '../providers/types'
import { dispatch, type RequestScope } from '../proxy/dispatch'

/** Provider model lists change rarely; one fetch per provider per isolate every 10 minutes. */
const TTL_MS = 10 * 60 * 1000
const cache = new Map<ProviderId, { ids: string[]; at: number }>()

const ModelList = z.object({ data: z.array(z.object({ id: z.string() })) })

export interface ModelsInput {
  scope: RequestScope
  gatewayBase: string
  entry: AuthEntry
}

/** `<provider>/<model>` ids this caller may use, in OpenAI's list shape, from every provider with keys. */
export async function listCompatModels(input: ModelsInput): Promise<unknown> {
  const providers = PROVIDER_IDS.filter((p) => PROVIDERS[p].modelsPath && entryAllowsProvider(input.entry, p))
  const lists = await Promise.all(providers.map((p) => modelsOf(p, input)))
  const data = providers.flatMap((provider, i) =>
    (lists[i] ?? [])
      .filter((model) => entryAllows(input.entry, provider, model))
      .map((model) => ({ id: `${provider}/${model}`, object: 'model', created: 0, owned_by: provider })),
  )
  return { object: 'list', data: [...(await aliasesFor(input)), ...data] }
}

/** The operator's aliases this caller may use: those with at least one target it is allowed. */
async function aliasesFor(input: ModelsInput) {
  const { scope } = input
  const book = aliasBookFor(scope.env.DB, scope.config.poolRefreshMs)
  const waitUntil = (p: Promise<unknown>) => scope.ctx.waitUntil(p)
  const out = []
  for (const [name, targets] of await book.all(Date.now(), waitUntil)) {
    const usable = targets.some((t) => {
      const { provider, model } = splitModelId(t)
      return entryAllows(input.entry, provider, model)
    })
    if (usable) out.push({ id: name, object: 'model', created: 0, owned_by: 'keyrelay' })
  }
  return out
}

async function modelsOf(provider: ProviderId, input: ModelsInput): Promise<string[]> {
  const hit = cache.get(provider)
  if (hit && Date.now() - hit.at < TTL_MS) return hit.ids
  const adapter = PROVIDERS[provider]
  try {
    const res = await dispatch(input.scope, {
      provider,
      adapter,
      model: undefined,
      url: `${input.gatewayBase}/${provider}/${adapter.modelsPath}`,
      method: 'GET',
      headers: new Headers(adapter.modelsHeaders),
      body: null,
      quiet: true,
    })
    const parsed = ModelList.safeParse(res.ok ? await res.json() : undefined)
    if (!parsed.success) return []
    const ids = parsed.data.data.map((m) => adapter.listedModelId?.(m.id) ?? m.id)
    cache.set(provider, { ids, at: Date.now() })
    return ids
  } catch (e) {
    // No keys, all cooling, or the provider is down: that provider contributes no models this time.
    if (!(e instanceof AppError)) log('internal_error', { provider, error: String(e).slice(0, 200) })
    return []
  }
}
