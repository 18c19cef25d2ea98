/**
 * The `cooldowns` column: a JSON object `{model: unixSeconds}`, read in one place. `*` is the slot
 * for every model (an account out of credit).
 */
export const ALL_MODELS = '*'

export type Cooldowns = Record<string, number>

/**
 * A corrupt or hand-edited map must not take a key out of rotation, nor show a phantom cooldown:
 * anything unreadable counts as no cooldown, and so does any entry that is not a number.
 */
export function parseCooldowns(text: string): Cooldowns {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return {}
  }
  const cooldowns: Cooldowns = {}
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return cooldowns
  for (const [model, until] of Object.entries(parsed)) {
    if (typeof until === 'number' && Number.isFinite(until)) cooldowns[model] = until
  }
  return cooldowns
}
