import { api, explain } from './api.js'
import { CHART_HINT, dailyChart, hourlyChart } from './chart.js'
import { ago, clearToast, h, left, modelLabel, toast } from './dom.js'
import { keyActions } from './key-actions.js'

/**
 * One key: what can be done to it (check, block or unblock, clear cooldowns, edit, delete), its state,
 * cooldowns with time left, block, settings, usage (24 h and 7 days), recent errors.
 */
export function renderKeyDetail(view, id) {
  const actions = keyActions({ provider: '' })
  /** Runs an action, then shows the key as it is now; a failure says in words what could not be done. */
  const act = (fn, doing) => async () => {
    clearToast()
    try {
      await fn()
      await load()
    } catch (e) {
      toast(explain(e, doing), 'error')
    }
  }
  const toolbar = (k) => {
    const button = (label, run, doing, cls) =>
      h('button', { type: 'button', class: cls, onclick: act(run, doing) }, label)
    return h(
      'div',
      { class: 'row detail-actions', role: 'toolbar', 'aria-label': 'Key actions' },
      button('Check', () => actions.check([k.id]), 'check the key'),
      k.status === 'blocked'
        ? button('Unblock', () => actions.unblock([k.id]), 'unblock the key')
        : button('Block', () => actions.block([k.id]), 'block the key'),
      Object.keys(k.cooldowns).length
        ? button('Clear cooldowns', () => actions.clearCooldowns([k.id]), 'clear its cooldowns')
        : null,
      button('Edit…', () => actions.edit([k.id], k), 'edit the key'),
      h(
        'button',
        {
          type: 'button',
          class: 'danger',
          onclick: async () => {
            clearToast()
            try {
              if (await actions.remove([k.id])) location.hash = `#/keys/${encodeURIComponent(k.provider)}`
            } catch (e) {
              toast(explain(e, 'delete the key'), 'error')
            }
          },
        },
        'Delete',
      ),
    )
  }
  const load = async () => {
    const { key: k, hourly, errors } = await api(`/keys/${encodeURIComponent(id)}`)
    const week = hourly.reduce(
      (t, x) => ({
        requests: t.requests + x.requests,
        rateLimited: t.rateLimited + x.rateLimited,
        errors: t.errors + x.errors,
        inputTokens: t.inputTokens + (x.inputTokens ?? 0),
        outputTokens: t.outputTokens + (x.outputTokens ?? 0),
      }),
      { requests: 0, rateLimited: 0, errors: 0, inputTokens: 0, outputTokens: 0 },
    )
    const cooldowns = Object.entries(k.cooldowns)
    view.replaceChildren(
      h('p', {}, h('a', { href: `#/keys/${encodeURIComponent(k.provider)}` }, `← ${k.provider} keys`)),
      h(
        'div',
        { class: 'title-row' },
        h('h1', {}, h('span', { class: 'mono' }, k.key), ' ', h('span', { class: 'muted' }, `#${k.id}`)),
        h('span', { class: `badge ${k.state}` }, k.state),
      ),
      toolbar(k),
      h(
        'dl',
        { class: 'figures detail' },
        h('dt', {}, 'Provider'),
        h('dd', {}, k.provider),
        h('dt', {}, 'Group · tier · weight'),
        h('dd', {}, `${k.group ?? 'none'} · ${k.tier} · ${k.weight}`),
        h('dt', {}, 'Blocked'),
        h('dd', {}, k.blockedReason ? `${k.blockedReason}, ${ago(k.blockedAt)}` : 'no'),
        h('dt', {}, 'Last checked'),
        h('dd', {}, ago(k.checkedAt)),
        h('dt', {}, 'Remark'),
        h('dd', {}, k.remark || '—'),
      ),
      h('h2', {}, 'Cooldowns'),
      cooldowns.length
        ? h(
            'ul',
            { id: 'detail-cooldowns' },
            cooldowns.map(([model, c]) =>
              h(
                'li',
                {},
                `${modelLabel(model)}: ${left(c.until)} left (until ${new Date(c.until * 1000).toLocaleString()})${c.reason ? `, ${c.reason}` : ''}`,
              ),
            ),
          )
        : h('p', { class: 'muted' }, 'None running.'),
      h('h2', {}, 'Usage'),
      h(
        'p',
        {},
        `Last 7 days: ${week.requests} ${week.requests === 1 ? 'request' : 'requests'}, ${week.rateLimited} × 429, ${week.errors} ${week.errors === 1 ? 'error' : 'errors'}; ${week.inputTokens} tokens in, ${week.outputTokens} out.`,
      ),
      h('p', { class: 'muted hint' }, CHART_HINT),
      h(
        'div',
        { class: 'detail-charts' },
        h(
          'figure',
          { class: 'card detail-chart' },
          h('figcaption', {}, 'Per hour, last 24 h'),
          hourlyChart(hourly, `Key #${k.id}: requests per hour over the last 24 hours`),
        ),
        h(
          'figure',
          { class: 'card detail-chart' },
          h('figcaption', {}, 'Per day, last 7 days'),
          dailyChart(hourly, `Key #${k.id}: requests per day over the last 7 days`),
        ),
      ),
      h('h2', {}, 'Recent errors'),
      errors.length
        ? h(
            'table',
            { id: 'detail-errors' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                h('th', {}, 'When'),
                h('th', {}, 'Status'),
                h('th', {}, 'Reason'),
                h('th', {}, 'Model'),
              ),
            ),
            h(
              'tbody',
              {},
              errors.map((e) =>
                h(
                  'tr',
                  {},
                  h('td', { 'data-label': 'When' }, ago(e.at)),
                  h('td', { 'data-label': 'Status' }, String(e.status || 'no answer')),
                  h('td', { 'data-label': 'Reason' }, e.reason),
                  h('td', { 'data-label': 'Model' }, modelLabel(e.model)),
                ),
              ),
            ),
          )
        : h('p', { class: 'muted' }, 'None in the last 7 days.'),
    )
  }
  return { refresh: load }
}
