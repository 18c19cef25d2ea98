import { ago, h, left } from './dom.js'

export const COLUMNS = [
  ['key', 'Key'],
  ['state', 'Status'],
  ['cooldown', 'Cooldowns'],
  ['blockedAt', 'Blocked'],
  ['requests', 'Requests'],
  ['errors', 'Errors'],
  ['lastUsed', 'Last used'],
  ['remark', 'Remark'],
]

/** The header: select-all for the page, and a sort button per column. */
export function drawHead(head, { state, onSelectPage, onSort }) {
  const pageSelected = state.rows.length > 0 && state.rows.every((k) => state.selected.has(k.id))
  head.replaceChildren(
    h(
      'th',
      {},
      h('input', {
        type: 'checkbox',
        'aria-label': 'Select all on this page',
        checked: pageSelected,
        onchange: (e) => onSelectPage(e.target.checked),
      }),
    ),
    ...COLUMNS.map(([sort, label]) => {
      const sorted = state.sort === sort
      return h(
        'th',
        { 'aria-sort': sorted ? (state.order === 'asc' ? 'ascending' : 'descending') : undefined },
        h(
          'button',
          { type: 'button', class: 'link', onclick: () => onSort(sort) },
          label,
          sorted ? (state.order === 'asc' ? ' ▲' : ' ▼') : '',
        ),
      )
    }),
    h('th', {}, 'Actions'),
  )
}

/** One key as a table row, with its own actions. */
export function keyRow(k, { selected, onSelect, actions, act, onRemoved }) {
  const cooldowns = Object.entries(k.cooldowns).map(
    ([model, c]) => `${model === '*' ? 'all models' : model}: ${left(c.until)}`,
  )
  const button = (label, run, cls) => h('button', { type: 'button', class: cls, onclick: act(run) }, label)
  return h(
    'tr',
    { 'data-id': k.id, class: selected ? 'selected' : '' },
    h(
      'td',
      {},
      h('input', {
        type: 'checkbox',
        'aria-label': `Select ${k.key}`,
        checked: selected,
        onchange: (e) => onSelect(k.id, e.target.checked),
      }),
    ),
    h('td', { class: 'mono' }, k.key),
    h('td', {}, h('span', { class: `badge ${k.state}` }, k.state)),
    h('td', { class: 'cooldowns' }, cooldowns.length ? cooldowns.join(', ') : '—'),
    h('td', {}, k.blockedReason ? `${k.blockedReason}, ${ago(k.blockedAt)}` : '—'),
    h('td', { class: 'num' }, String(k.usage.requests)),
    h('td', { class: 'num' }, String(k.usage.errors + k.usage.rateLimited)),
    h('td', {}, ago(k.usage.lastUsed)),
    h('td', { class: 'remark' }, k.remark),
    h(
      'td',
      { class: 'actions' },
      button('Check', () => actions.check([k.id])),
      k.status === 'blocked'
        ? button('Unblock', () => actions.unblock([k.id]))
        : button('Block', () => actions.block([k.id])),
      Object.keys(k.cooldowns).length ? button('Clear', () => actions.clearCooldowns([k.id])) : null,
      button('Remark', () => actions.editRemark([k.id], k.remark)),
      button('Delete', async () => (await actions.remove([k.id])) && onRemoved([k.id]), 'danger'),
    ),
  )
}
