import { api } from './api.js'
import { h, percent, sparkline } from './dom.js'

/** One card per provider: key states now, traffic over the last 24 hours; the setup panel above. */
export async function renderOverview(view, setup) {
  const data = await api('/overview')
  const cards = data.providers.map((p) => {
    const done = p.usage.requests
    return h(
      'a',
      { class: 'card', href: `#/keys/${encodeURIComponent(p.provider)}`, 'data-provider': p.provider },
      h('h2', {}, p.provider),
      h(
        'p',
        { class: 'counts' },
        h('span', { class: 'badge active' }, `${p.keys.active} active`),
        h('span', { class: 'badge cooling' }, `${p.keys.cooling} cooling`),
        h('span', { class: 'badge blocked' }, `${p.keys.blocked} blocked`),
      ),
      h(
        'dl',
        { class: 'figures' },
        h('dt', {}, 'Requests, 24 h'),
        h('dd', {}, String(done)),
        h('dt', {}, 'Success'),
        h('dd', {}, percent(p.usage.successes, done)),
        h('dt', {}, '429s'),
        h('dd', {}, String(p.usage.rateLimited)),
      ),
      sparkline(p.hourly, `${p.provider}: requests per hour over the last 24 hours`),
    )
  })
  view.replaceChildren(
    h(
      'div',
      { class: 'title-row' },
      h('h1', {}, 'Overview'),
      h('a', { class: 'button', href: '#/add' }, 'Add keys'),
    ),
    setup,
    cards.length > 0
      ? h('div', { class: 'cards' }, cards)
      : h('p', { class: 'empty' }, 'No keys yet. ', h('a', { href: '#/add' }, 'Add your first keys'), '.'),
  )
}
