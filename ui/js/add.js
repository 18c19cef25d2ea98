import { api, explain } from './api.js'
import { h, toast } from './dom.js'

export const splitKeys = (text) => text.split(/[\s,;]+/).filter(Boolean)

/**
 * The provider every pasted key looks like, when exactly one does: shapes come from the providers'
 * adapters (GET /admin/api/providers), so the dashboard knows nothing of its own about them.
 */
export function suggestProvider(keys, providers) {
  const shapes = providers.filter((p) => p.keyShape).map((p) => [new RegExp(p.keyShape.pattern), p.id])
  // A key that fits one provider's shape names it; one that fits none (a typo) or several (sk-…
  // keys of OpenAI and DeepSeek alike) says nothing either way.
  const named = new Set()
  for (const k of keys) {
    const fits = shapes.filter(([pattern]) => pattern.test(k))
    if (fits.length === 1) named.add(fits[0][1])
  }
  return named.size === 1 ? [...named][0] : undefined
}

export function renderAdd(view, providers, preselect) {
  const text = h('textarea', {
    id: 'add-keys',
    rows: 10,
    placeholder: 'One key per line, or separated by commas or spaces',
  })
  const file = h('input', { id: 'add-file', type: 'file', accept: '.txt,.csv,text/plain' })
  const provider = h(
    'select',
    { id: 'add-provider' },
    providers.map((p) => h('option', { value: p.id, selected: p.id === preselect }, p.id)),
  )
  const remark = h('input', { id: 'add-remark', maxlength: 200 })
  const group = h('input', { id: 'add-group', maxlength: 64, placeholder: 'e.g. the Google Cloud project' })
  const tier = h('input', { id: 'add-tier', type: 'number', min: 0, max: 9, value: 0 })
  const weight = h('input', { id: 'add-weight', type: 'number', min: 1, max: 1000, value: 1 })
  const hint = h('p', { class: 'hint', id: 'add-hint' })
  const preview = h('p', { id: 'add-preview', 'aria-live': 'polite' })
  // Keys that do not look like the provider's: said, and added only once the operator says so.
  const anyway = h('input', { type: 'checkbox', id: 'add-anyway' })
  const warning = h(
    'div',
    { class: 'caution', id: 'add-warning', hidden: true, role: 'alert' },
    h('p', { id: 'add-warning-text' }),
    h('label', { for: 'add-anyway', class: 'inline' }, anyway, ' Add them anyway'),
  )
  provider.addEventListener('change', () => {
    warning.hidden = true
    anyway.checked = false
  })
  const keys = () => splitKeys(text.value)

  const suggest = () => {
    const guess = suggestProvider(keys(), providers)
    hint.textContent = guess ? `These look like ${guess} keys.` : ''
    if (guess) provider.value = guess
  }
  text.addEventListener('input', suggest)
  file.addEventListener('change', async () => {
    const f = file.files?.[0]
    if (f) text.value = await f.text()
    suggest()
  })
  const doPreview = async () => {
    const r = await api('/keys/preview', { method: 'POST', body: { provider: provider.value, keys: keys() } })
    preview.textContent = `${r.new} new, ${r.existing} already stored, ${r.duplicates} duplicates, ${r.malformed} malformed`
    warning.hidden = r.unusual === 0
    if (r.unusual > 0) {
      warning.querySelector('p').textContent =
        `${r.unusual} of these ${r.unusual === 1 ? 'does' : 'do'} not look like a ${provider.value} key (${r.looksLike}). A key pasted under the wrong provider, or copied in part, never works.`
    }
    return r
  }
  const add = (event) => {
    event.preventDefault()
    addKeys().catch((e) => toast(explain(e, 'add the keys'), 'error'))
  }
  const addKeys = async () => {
    const r = await doPreview()
    if (r.malformed > 0) {
      toast('Remove the malformed entries first (keys have no spaces inside).', 'error')
      return
    }
    // The warning (an alert) says why; the operator checks the provider, or ticks the box.
    if (r.unusual > 0 && !anyway.checked) {
      anyway.focus()
      return
    }
    const added = await api('/keys', {
      method: 'POST',
      body: {
        provider: provider.value,
        keys: keys(),
        remark: remark.value || undefined,
        group: group.value.trim() || undefined,
        tier: Number(tier.value),
        weight: Number(weight.value),
      },
    })
    // Keys sealed with a replaced ENCRYPTION_KEY could not be compared with these: the answer says so.
    if (added.warning) toast(`Added ${added.added}, skipped ${added.skipped}. ${added.warning}`, 'error')
    else toast(`Added ${added.added}, skipped ${added.skipped}.`)
    location.hash = `#/keys/${encodeURIComponent(provider.value)}`
  }
  view.replaceChildren(
    h('h1', {}, 'Add keys'),
    h(
      'form',
      { class: 'stack', onsubmit: add },
      h('label', { for: 'add-keys' }, 'Keys'),
      text,
      h('label', { for: 'add-file' }, 'or a text file'),
      file,
      h('label', { for: 'add-provider' }, 'Provider'),
      provider,
      hint,
      h('label', { for: 'add-remark' }, 'Remark (optional)'),
      remark,
      h('label', { for: 'add-group' }, 'Group (optional): keys that share one quota cool down together'),
      group,
      h(
        'div',
        { class: 'row' },
        h('label', { for: 'add-tier' }, 'Tier ', tier),
        h('label', { for: 'add-weight' }, 'Weight ', weight),
      ),
      h(
        'p',
        { class: 'hint' },
        'Tier 0 keys are used first; tier 1 only when no tier-0 key can serve. Weight is a share among keys of one tier.',
      ),
      h(
        'div',
        { class: 'row' },
        h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            onclick: () => doPreview().catch((e) => toast(explain(e, 'preview the keys'), 'error')),
          },
          'Preview',
        ),
        h('button', { type: 'submit' }, 'Add'),
      ),
      preview,
      warning,
    ),
  )
}
