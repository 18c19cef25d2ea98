import { api, explain } from './api.js'
import { h, toast } from './dom.js'

/** Key shapes that name their provider unambiguously. */
const SHAPES = [
  [/^AIza[0-9A-Za-z_-]{35}$/, 'google-ai-studio'],
  [/^sk-ant-/, 'anthropic'],
  [/^sk-or-/, 'openrouter'],
  [/^gsk_/, 'groq'],
  [/^xai-/, 'grok'],
  [/^pplx-/, 'perplexity-ai'],
  [/^csk-/, 'cerebras'],
  [/^hf_/, 'huggingface'],
  [/^r8_/, 'replicate'],
  [/^sk-proj-/, 'openai'],
]

export const splitKeys = (text) => text.split(/[\s,;]+/).filter(Boolean)

export function suggestProvider(keys) {
  const guesses = new Set(keys.map((k) => SHAPES.find(([re]) => re.test(k))?.[1]).filter(Boolean))
  return guesses.size === 1 ? [...guesses][0] : undefined
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
    providers.map((p) => h('option', { value: p, selected: p === preselect }, p)),
  )
  const remark = h('input', { id: 'add-remark', maxlength: 200 })
  const group = h('input', { id: 'add-group', maxlength: 64, placeholder: 'e.g. the Google Cloud project' })
  const tier = h('input', { id: 'add-tier', type: 'number', min: 0, max: 9, value: 0 })
  const weight = h('input', { id: 'add-weight', type: 'number', min: 1, max: 1000, value: 1 })
  const hint = h('p', { class: 'hint', id: 'add-hint' })
  const preview = h('p', { id: 'add-preview', 'aria-live': 'polite' })
  const keys = () => splitKeys(text.value)

  const suggest = () => {
    const guess = suggestProvider(keys())
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
    ),
  )
}
