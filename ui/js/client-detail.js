import { api } from './api.js'
import { CHART_HINT, clientDaysChart } from './chart.js'
import { allowText, clientActions, expiryText, number, quotaLines, statusOf } from './clients.js'
import { h } from './dom.js'

const usageText = (u) =>
  `${number(u.requests)} requests · ${number(u.tokens)} tokens (${number(u.inputTokens)} in, ${number(u.outputTokens)} out, ${number(u.cachedTokens)} cached)`

/** One client key: its settings, quotas against today's and this month's usage, and its last 7 days. */
export function renderClientDetail(view, id) {
  const refresh = async () => {
    const { client: c, days } = await api(`/clients/${encodeURIComponent(id)}`)
    const actions = clientActions(refresh)
    const status = statusOf(c)
    view.replaceChildren(
      h('p', {}, h('a', { href: '#/clients' }, '← Client keys')),
      h(
        'div',
        { class: 'title-row' },
        h('h1', {}, c.name, ' ', h('span', { class: 'muted mono' }, c.keyHint)),
        h('span', { class: `badge ${status.cls}` }, status.text),
      ),
      h(
        'div',
        { class: 'row detail-actions', role: 'toolbar', 'aria-label': 'Client key actions' },
        h('button', { type: 'button', onclick: actions.edit(c) }, 'Edit…'),
        h(
          'button',
          { type: 'button', class: 'secondary', onclick: actions.toggle(c) },
          c.status === 'disabled' ? 'Enable' : 'Disable',
        ),
        h(
          'button',
          {
            type: 'button',
            class: 'danger',
            onclick: actions.remove(c, () => (location.hash = '#/clients')),
          },
          'Delete',
        ),
      ),
      h(
        'dl',
        { class: 'figures detail' },
        h('dt', {}, 'Models'),
        h('dd', {}, allowText(c.allow)),
        h('dt', {}, 'Expires'),
        h('dd', {}, expiryText(c)),
        h('dt', {}, 'Stored objects'),
        h('dd', {}, c.storedObjects ? 'may upload files and create batches' : 'no'),
        h('dt', {}, 'Today (UTC)'),
        h('dd', {}, usageText(c.usage.today)),
        h('dt', {}, 'This month (UTC)'),
        h('dd', {}, usageText(c.usage.month)),
        h('dt', {}, 'Quotas'),
        h('dd', {}, quotaLines(c)),
      ),
      h('h2', {}, 'Last 7 days'),
      h('p', { class: 'muted hint' }, CHART_HINT),
      h(
        'div',
        { class: 'detail-charts' },
        h(
          'figure',
          { class: 'card detail-chart' },
          h('figcaption', {}, 'Requests per day'),
          clientDaysChart(days, 'requests', `${c.name}: requests per day over the last 7 days`),
        ),
        h(
          'figure',
          { class: 'card detail-chart' },
          h('figcaption', {}, 'Tokens per day'),
          clientDaysChart(days, 'tokens', `${c.name}: tokens per day over the last 7 days`),
        ),
      ),
    )
  }
  return { refresh }
}
