/**
 * The `cooldowns` column: a JSON object `{scope: unixSeconds}`, read in one place. A scope is a
 * model name, or one of two reserved slots that no model name can spell (proxy/model.ts admits
 * only names without `*`, `(` or `)`), so no caller can reach them by naming a model.
 */

/** A model name that passed `toModelName` (proxy/model.ts): the only way caller text becomes a scope. */
export type ModelName = string & { readonly __brand: 'ModelName' }

/** Every model at once (an account out of credit, a rate-limited key list). */
export const ALL_MODELS = '*'
/** Requests that name no model (speech, predictions, model lists…). */
export const NO_MODEL = '(default)'

export type CooldownScope = ModelName | typeof ALL_MODELS | typeof NO_MODEL

export type Cooldowns = Record<string, number>

/** When a key may serve `model` again: its own cooldown for that model or one for every model. */
export function cooledUntil(cooldowns: Cooldowns, model: string): number {
  return Math.max(cooldowns[model] ?? 0, cooldowns[ALL_MODELS] ?? 0)
}

/**
 * A corrupt or hand-edited map must not take a key out of rotation, nor show a phantom cooldown:
 * anything unreadable counts as no cooldown, and so does any entry that is not a number.
 */
export function parseCooldowns(text: string): Cooldowns {
  const cooldowns: Cooldowns = {}
  for (const [model, until] of Object.entries(jsonObject(text))) {
    if (typeof until === 'number' && Number.isFinite(until)) cooldowns[model] = until
  }
  return cooldowns
}

/** The `cooldown_reasons` column, `{scope: reason code}`, read as leniently: non-strings are dropped. */
export function parseCooldownReasons(text: string): Record<string, string> {
  const reasons: Record<string, string> = {}
  for (const [scope, reason] of Object.entries(jsonObject(text))) {
    if (typeof reason === 'string') reasons[scope] = reason
  }
  return reasons
}

function jsonObject(text: string): Record<string, unknown> {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return {}
  }
  return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : {}
}
