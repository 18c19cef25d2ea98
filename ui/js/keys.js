import { api, explain } from './api.js'
import { clearToast, h, toast } from './dom.js'
import { keyActions } from './key-actions.js'
import { filters } from './keys-filters.js'
import { drawHead, keyRow } from './keys-table.js'
import { drawToolbar } from './keys-toolbar.js'

const PAGE = 50

/**
 * The keys of one provider, or of every provider (`provider` ''): filters, the bulk toolbar, the
 * table (cards on a phone) and the pager. Every change re-queries.
 */
export function renderKeys(view, provider) {
  const state = {
    q: '',
    status: '',
    group: '',
    provider,
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
      sort: state.sort,
      order: state.order,
      limit: String(PAGE),
      offset: String(state.offset),
    })
    for (const name of ['provider', 'q', 'status', 'group']) if (state[name]) params.set(name, state[name])
    const data = await api(`/keys?${params}`)
    state.rows = data.keys
    state.total = data.total
    draw()
  }
  /**
   * Runs a change, then shows the keys as they are now. The last action's message goes first; a
   * failure says in words what could not be done (`doing`), never the server's raw text.
   */
  const act =
    (fn, doing = 'do that') =>
    async () => {
      clearToast()
      try {
        await fn()
        await load()
      } catch (e) {
        toast(explain(e, doing), 'error')
      }
    }
  const select = (id, on) => (on ? state.selected.add(id) : state.selected.delete(id))
  const onRemoved = (ids) => ids.forEach((id) => state.selected.delete(id))
  const toolbar = () => drawToolbar(bulk, { selected: state.selected, actions, act, onRemoved })

  const draw = () => {
    drawHead(head, {
      state,
      showProvider: !provider,
      onSelectPage: (on) => {
        state.rows.forEach((k) => select(k.id, on))
        draw()
      },
      onSort: (sort) =>
        act(async () => {
          state.order = state.sort === sort && state.order === 'asc' ? 'desc' : 'asc'
          state.sort = sort
          state.offset = 0
        }, 'sort the keys')(),
    })
    const onSelect = (id, on) => {
      select(id, on)
      toolbar()
    }
    const showProvider = !provider
    table.replaceChildren(
      ...state.rows.map((k) =>
        keyRow(k, { selected: state.selected.has(k.id), onSelect, actions, act, onRemoved, showProvider }),
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
    {
      type: 'button',
      onclick: act(async () => (state.offset = Math.max(0, state.offset - PAGE)), 'turn the page'),
    },
    'Previous',
  )
  const next = h(
    'button',
    { type: 'button', onclick: act(async () => (state.offset += PAGE), 'turn the page') },
    'Next',
  )
  const onFilter = (patch) => Object.assign(state, patch, { offset: 0 })
  const title = provider || 'All keys'
  const filterBar = h('div')

  view.replaceChildren(
    h(
      'div',
      { class: 'title-row' },
      h('h1', {}, title),
      h(
        'a',
        { class: 'button', href: provider ? `#/add/${encodeURIComponent(provider)}` : '#/add' },
        'Add keys',
      ),
    ),
    filterBar,
    progress,
    bulk,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        {},
        h('caption', {}, provider ? `${provider} keys` : 'Keys of every provider'),
        h('thead', {}, head),
        table,
      ),
    ),
    h('div', { class: 'pager' }, prev, info, next),
  )
  // The provider list (for the all-keys page's filter) comes once, with the first load.
  const providers = provider
    ? Promise.resolve([])
    : api('/providers').then((o) => o.providers.map((p) => p.id))
  let filtersShown = false
  return {
    refresh: async () => {
      try {
        if (!filtersShown) {
          filterBar.replaceWith(filters({ provider, providers: await providers, act, onChange: onFilter }))
          filtersShown = true
        }
        await load()
      } catch (e) {
        toast(explain(e, 'load the keys'), 'error')
      }
    },
  }
}
