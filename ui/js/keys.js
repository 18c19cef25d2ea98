import { api } from './api.js'
import { h, toast } from './dom.js'
import { keyActions } from './key-actions.js'
import { filters } from './keys-filters.js'
import { drawHead, keyRow } from './keys-table.js'
import { drawToolbar } from './keys-toolbar.js'

const PAGE = 50

/** The keys of one provider: filters, the bulk toolbar, the table and the pager. Every change re-queries. */
export function renderKeys(view, provider) {
  const state = {
    q: '',
    status: '',
    sort: 'id',
    order: 'asc',
    offset: 0,
    selected: new Set(),
    total: 0,
    rows: [],
  }
  const table = h('tbody')
  const head = h('tr')
  const info = h('p', { class: 'page-info', 'aria-live': 'polite' })
  const progress = h('progress', {
    id: 'check-progress',
    max: 1,
    value: 0,
    hidden: true,
    'aria-label': 'Check progress',
  })
  const bulk = h('div', { class: 'bulk', id: 'bulk', hidden: true })
  const actions = keyActions({ progress, provider })

  const load = async () => {
    const params = new URLSearchParams({
      provider,
      sort: state.sort,
      order: state.order,
      limit: String(PAGE),
      offset: String(state.offset),
    })
    if (state.q) params.set('q', state.q)
    if (state.status) params.set('status', state.status)
    const data = await api(`/keys?${params}`)
    state.rows = data.keys
    state.total = data.total
    draw()
  }
  /** Runs a change, then shows the keys as they are now; errors become a toast. */
  const act = (fn) => async () => {
    try {
      await fn()
      await load()
    } catch (e) {
      toast(e.message, 'error')
    }
  }
  const select = (id, on) => (on ? state.selected.add(id) : state.selected.delete(id))
  const onRemoved = (ids) => ids.forEach((id) => state.selected.delete(id))
  const toolbar = () => drawToolbar(bulk, { selected: state.selected, actions, act, onRemoved })

  const draw = () => {
    drawHead(head, {
      state,
      onSelectPage: (on) => {
        state.rows.forEach((k) => select(k.id, on))
        draw()
      },
      onSort: (sort) =>
        act(async () => {
          state.order = state.sort === sort && state.order === 'asc' ? 'desc' : 'asc'
          state.sort = sort
          state.offset = 0
        })(),
    })
    const onSelect = (id, on) => {
      select(id, on)
      toolbar()
    }
    table.replaceChildren(
      ...state.rows.map((k) =>
        keyRow(k, { selected: state.selected.has(k.id), onSelect, actions, act, onRemoved }),
      ),
    )
    const last = Math.min(state.total, state.offset + PAGE)
    info.textContent = state.total ? `${state.offset + 1}–${last} of ${state.total}` : 'No keys match.'
    prev.disabled = state.offset === 0
    next.disabled = last >= state.total
    toolbar()
  }

  const prev = h(
    'button',
    { type: 'button', onclick: act(async () => (state.offset = Math.max(0, state.offset - PAGE))) },
    'Previous',
  )
  const next = h('button', { type: 'button', onclick: act(async () => (state.offset += PAGE)) }, 'Next')
  const onFilter = (patch) => Object.assign(state, patch, { offset: 0 })

  view.replaceChildren(
    h(
      'div',
      { class: 'title-row' },
      h('h1', {}, provider),
      h('a', { class: 'button', href: `#/add/${encodeURIComponent(provider)}` }, 'Add keys'),
    ),
    filters({ provider, act, onChange: onFilter }),
    progress,
    bulk,
    h(
      'div',
      { class: 'table-wrap' },
      h('table', {}, h('caption', {}, `${provider} keys`), h('thead', {}, head), table),
    ),
    h('div', { class: 'pager' }, prev, info, next),
  )
  return { refresh: () => load().catch((e) => toast(e.message, 'error')) }
}
