import { ago, h, left, modelLabel } from './dom.js'

export const COLUMNS = [
  ['key', 'Key'],
  ['provider', 'Provider'],
  ['state', 'Status'],
  // Why a key is not serving: its block, or its cooldowns.
  ['cooldown', 'Why not serving'],
  ['requests', 'Requests'],
  ['errors', 'Errors'],
  ['lastUsed', 'Last used'],
  ['group', 'Group · tier · weight'],
  ['remark', 'Remark'],
]

/** Columns shown on a provider's own page: its name would repeat on every row. */
export const columnsFor = (showProvider) => COLUMNS.filter(([sort]) => showProvider || sort !== 'provider')

/** The header: select-all for the page, and a sort button per column. */
export function drawHead(head, { state, onSelectPage, onSort, showProvider }) {
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
    ...columnsFor(showProvider).map(([sort, label]) => {
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

/** Group, tier and weight, where they differ from the defaults (words in the cell's title). */
function settings(k) {
  if (!k.group && !k.tier && k.weight === 1) return { text: '—', title: 'no group, tier 0, weight 1' }
  return {
    text: `${k.group ?? '—'} · ${k.tier} · ${k.weight}`,
    title: `group ${k.group ?? 'none'}, tier ${k.tier}, weight ${k.weight}`,
  }
}

/** Why a key is not serving now: its block (reason, when), or each model's cooldown and time left. */
function whyNot(k) {
  if (k.status === 'blocked') return `${k.blockedReason ?? 'blocked'}, ${ago(k.blockedAt)}`
  const cooling = Object.entries(k.cooldowns).map(([model, c]) => `${modelLabel(model)}: ${left(c.until)}`)
  return cooling.length ? cooling.join(', ') : '—'
}

/**
 * One key as a table row: one primary action (Check) and the others in a menu, so a row stays one
 * line wide. Each cell names its column (`data-label`), so on a phone the row reads as a card.
 */
export function keyRow(k, { selected, onSelect, actions, act, onRemoved, showProvider }) {
  const cell = (label, attrs, ...content) => h('td', { 'data-label': label, ...attrs }, ...content)
  const { text: settingsText, title: settingsTitle } = settings(k)
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
    ),
    showProvider ? cell('Provider', { class: 'muted' }, k.provider) : null,
    cell('Status', {}, h('span', { class: `badge ${k.state}` }, k.state)),
    cell('Why not serving', { class: 'cooldowns', title: whyNot(k) }, whyNot(k)),
    cell('Requests', { class: 'num' }, String(k.usage.requests)),
    cell('Errors', { class: 'num' }, String(k.usage.errors + k.usage.rateLimited)),
    cell('Last used', {}, ago(k.usage.lastUsed)),
    cell('Group · tier · weight', { class: 'settings', title: settingsTitle }, settingsText),
    cell('Remark', { class: 'remark', title: k.remark || undefined }, k.remark),
    // The buttons sit in a div: a flex td stops being a table cell and spills out of the table.
    h(
      'td',
      { class: 'actions' },
      h(
        'div',
        { class: 'buttons' },
        h('button', { type: 'button', onclick: act(() => actions.check([k.id]), 'check the key') }, 'Check'),
        keyMenu(k, { actions, act, onRemoved }),
      ),
    ),
  )
}

/**
 * A key's other actions, in a menu that opens on click and closes once one is chosen: block or
 * unblock, clear cooldowns, edit, delete. The key detail page shows the same ones as buttons.
 */
export function keyMenu(k, { actions, act, onRemoved, afterDelete }) {
  const menu = h('details', { class: 'menu' })
  const item = (label, run, doing, cls) =>
    h(
      'button',
      {
        type: 'button',
        role: 'menuitem',
        class: cls ?? 'secondary',
        onclick: () => {
          menu.open = false
          return act(run, doing)()
        },
      },
      label,
    )
  menu.append(
    h('summary', { 'aria-label': `More actions for key ${k.id}` }, 'More'),
    h(
      'div',
      { class: 'menu-items', role: 'menu' },
      k.status === 'blocked'
        ? item('Unblock', () => actions.unblock([k.id]), 'unblock the key')
        : item('Block', () => actions.block([k.id]), 'block the key'),
      Object.keys(k.cooldowns).length
        ? item('Clear cooldowns', () => actions.clearCooldowns([k.id]), 'clear its cooldowns')
        : null,
      item('Edit…', () => actions.edit([k.id], k), 'edit the key'),
      item(
        'Delete',
        async () => {
          if (!(await actions.remove([k.id]))) return
          onRemoved?.([k.id])
          afterDelete?.()
        },
        'delete the key',
        'danger',
      ),
    ),
  )
  // Another menu opening, or a click elsewhere, closes this one.
  menu.addEventListener('toggle', () => {
    if (!menu.open) return
    for (const other of document.querySelectorAll('details.menu[open]'))
      if (other !== menu) other.open = false
  })
  return menu
}
