import { api, explain } from './api.js'
import { h, left, showDialog } from './dom.js'

const count = new Intl.NumberFormat()

/**
 * A free-tier card section: per model, the requests left today across the provider's projects (key
 * groups; a key without one is its own), when the day restarts, and how the figures were come by.
 */
export function quotaLeftSection(provider, limits, onChange) {
  const shown = limits.models.filter((m) => m.projects > 0)
  if (shown.length === 0) return null
  // The models in use first: those are the ones an operator watches.
  shown.sort((a, b) => b.used - a.used || a.model.localeCompare(b.model))
  const projects = Math.max(...shown.map((m) => m.projects))
  return h(
    'section',
    { class: 'quota-left', 'data-provider': provider },
    h('h3', {}, 'Requests left today'),
    h(
      'ul',
      {},
      shown.map((m) =>
        h(
          'li',
          { 'data-model': m.model, class: m.left === 0 ? 'none' : '' },
          h('span', { class: 'model' }, m.model),
          h('meter', {
            min: 0,
            max: Math.max(1, m.requestsPerDay),
            value: m.left,
            'aria-label': `${m.model}: ${m.left} of ${m.requestsPerDay} requests left today across ${m.projects} projects`,
          }),
          h('span', { class: 'share' }, `${count.format(m.left)} of ${count.format(m.requestsPerDay)}`),
        ),
      ),
    ),
    h(
      'p',
      { class: 'muted' },
      `Across ${projects} project${projects === 1 ? '' : 's'}; resets in ${left(limits.resetsAt)}. `,
      limits.freeTier ? `Free-tier figures as published (read ${limits.freeTier.readOn}). ` : '',
      h(
        'button',
        {
          type: 'button',
          class: 'link',
          onclick: () => editLimits(provider, shown).then((c) => c && onChange()),
        },
        'Set your limits…',
      ),
    ),
  )
}

/**
 * Sets a model's daily and per-minute figures for every key group or one, or returns them to the
 * published table. Resolves true when something changed.
 */
export function editLimits(provider, models) {
  return new Promise((resolve) => {
    const field = (id, label, attrs = {}) => {
      const input = h('input', { id: `limit-${id}`, name: id, ...attrs })
      return { input, row: h('div', { class: 'field' }, h('label', { for: input.id }, label), input) }
    }
    const list = h(
      'datalist',
      { id: 'limit-models' },
      models.map((m) => h('option', { value: m.model })),
    )
    const model = field('model', 'Model', {
      list: 'limit-models',
      value: models[0]?.model ?? '',
      required: true,
    })
    const group = field('group', 'Key group (empty: every group)', { placeholder: 'every group' })
    const figures = [
      ['requestsPerDay', 'Requests per day'],
      ['requestsPerMinute', 'Requests per minute'],
      ['tokensPerMinute', 'Tokens per minute'],
    ].map(([name, label]) => ({
      name,
      ...field(name, label, { inputmode: 'numeric', placeholder: 'as published' }),
    }))
    const failure = h('p', { class: 'error', role: 'alert' })
    const fill = () => {
      const m = models.find((x) => x.model === model.input.value)
      for (const f of figures) f.input.value = m?.limits[f.name] ?? ''
    }
    model.input.addEventListener('change', fill)
    fill()
    const target = () => ({
      provider,
      model: model.input.value.trim(),
      ...(group.input.value.trim() ? { group: group.input.value.trim() } : {}),
    })
    const run = async (doing, send) => {
      failure.textContent = ''
      try {
        await send()
        close(true)
      } catch (e) {
        failure.textContent = explain(e, doing)
      }
    }
    const form = h(
      'form',
      { method: 'dialog', class: 'stack', novalidate: true },
      model.row,
      list,
      group.row,
      h(
        'fieldset',
        { class: 'quotas' },
        h('legend', {}, 'Per project (empty: as published)'),
        ...figures.map((f) => f.row),
      ),
      failure,
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'submit' }, 'Save'),
        h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            onclick: () =>
              run('return to the published figures', () =>
                api('/limits', { method: 'DELETE', body: target() }),
              ),
          },
          'Use the published figures',
        ),
        h('button', { type: 'button', class: 'secondary', onclick: () => close(false) }, 'Cancel'),
      ),
    )
    form.addEventListener('submit', (event) => {
      event.preventDefault()
      const body = target()
      for (const f of figures) {
        const text = f.input.value.trim()
        if (text === '') continue
        if (!/^\d{1,9}$/.test(text) || Number(text) < 1) {
          failure.textContent = 'Each figure is a whole number from 1 up, or empty for the published one.'
          return
        }
        body[f.name] = Number(text)
      }
      run('save the limits', () => api('/limits', { method: 'PUT', body }))
    })
    const dialog = h(
      'dialog',
      { class: 'choice form', 'aria-labelledby': 'limits-title' },
      h('h2', { id: 'limits-title' }, `Limits for ${provider}`),
      h(
        'p',
        { class: 'muted' },
        'Per project, as your provider shows them (AI Studio lists each project’s).',
      ),
      form,
    )
    const close = showDialog(dialog, resolve, false)
    model.input.focus()
  })
}
