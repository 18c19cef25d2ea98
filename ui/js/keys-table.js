import { ago, h, left, modelLabel } from './dom.js'

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

/** Group, tier and weight, where they differ from the defaults. */
function settings(k) {
  return [
    k.group && `group ${k.group}`,
    k.tier ? `tier ${k.tier}` : '',
    k.weight !== 1 ? `weight ${k.weight}` : '',
  ]
    .filter(Boolean)
    .join(' · ')
}

/**
 * One key as a table row, with its own actions. Each cell names its column (`data-label`), so on a
 * phone the row reads as a card.
 */
export function keyRow(k, { selected, onSelect, actions, act, onRemoved, showProvider }) {
  const cooldowns = Object.entries(k.cooldowns).map(([model, c]) => `${modelLabel(model)}: ${left(c.until)}`)
  const button = (label, run, doing, cls) =>
    h('button', { type: 'button', class: cls, onclick: act(run, doing) }, label)
  const cell = (label, attrs, ...content) => h('td', { 'data-label': label, ...attrs }, ...content)
  return h(
    'tr',
    { 'data-id': k.id, class: selected ? 'selected' : '' },
    h(
      'td',
      { class: 'select' },
      h('input', {
        type: 'checkbox',
        'aria-label': `Select key ${k.id}`,
        checked: selected,
        onchange: (e) => onSelect(k.id, e.target.checked),
      }),
    ),
    // The id tells apart keys whose masked forms look alike.
    cell(
      'Key',
      { class: 'keycell' },
      h('a', { class: 'mono', href: `#/key/${k.id}`, title: 'Details' }, k.key),
      ' ',
      h('span', { class: 'muted' }, `#${k.id}`),
      showProvider ? h('span', { class: 'muted' }, ` ${k.provider}`) : null,
      settings(k) ? h('div', { class: 'settings muted' }, settings(k)) : null,
    ),
    cell('Status', {}, h('span', { class: `badge ${k.state}` }, k.state)),
    cell('Cooldowns', { class: 'cooldowns' }, cooldowns.length ? cooldowns.join(', ') : '—'),
    cell('Blocked', {}, k.blockedReason ? `${k.blockedReason}, ${ago(k.blockedAt)}` : '—'),
    cell('Requests', { class: 'num' }, String(k.usage.requests)),
    cell('Errors', { class: 'num' }, String(k.usage.errors + k.usage.rateLimited)),
    cell('Last used', {}, ago(k.usage.lastUsed)),
    cell('Remark', { class: 'remark' }, k.remark),
    // The buttons sit in a div: a flex td stops being a table cell and spills out of the table.
    h(
      'td',
      { class: 'actions' },
      h(
        'div',
        { class: 'buttons' },
        button('Check', () => actions.check([k.id]), 'check the key'),
        k.status === 'blocked'
          ? button('Unblock', () => actions.unblock([k.id]), 'unblock the key')
          : button('Block', () => actions.block([k.id]), 'block the key'),
        Object.keys(k.cooldowns).length
          ? button('Clear', () => actions.clearCooldowns([k.id]), 'clear its cooldowns')
          : null,
        button('Remark', () => actions.editRemark([k.id], k.remark), 'edit the remark'),
        button('Settings', () => actions.editSettings([k.id], k), 'change its settings'),
        button(
          'Delete',
          async () => (await actions.remove([k.id])) && onRemoved([k.id]),
          'delete the key',
          'danger',
        ),
      ),
    ),
  )
}
