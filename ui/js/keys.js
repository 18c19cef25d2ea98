import { api, checkAll } from './api.js'
import { ago, h, left, toast } from './dom.js'

const PAGE = 50
const COLUMNS = [
  ['key', 'Key'],
  ['state', 'Status'],
  ['cooldown', 'Cooldowns'],
  ['blockedAt', 'Blocked'],
  ['requests', 'Requests'],
  ['errors', 'Errors'],
  ['lastUsed', 'Last used'],
  ['remark', 'Remark'],
]

/** The keys of one provider. State lives in the URL-independent `state`; every change re-queries. */
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
  const info = h('p', { class: 'page-info', 'aria-live': 'polite' })
  const progress = h('progress', {
    id: 'check-progress',
    max: 1,
    value: 0,
    hidden: true,
    'aria-label': 'Check progress',
  })
  const bulk = h('div', { class: 'bulk', id: 'bulk', hidden: true })
  const head = h('tr')

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
  const ids = () => [...state.selected]
  const act = (fn) => async () => {
    try {
      await fn()
      await load()
    } catch (e) {
      toast(e.message, 'error')
    }
  }
  const patch = (ids, body) => api('/keys', { method: 'PATCH', body: { ids, ...body } })
  const check = async (ids) => {
    progress.hidden = false
    progress.value = 0
    const results = await checkAll({ ids }, (done, total) => {
      progress.max = total
      progress.value = done
    })
    progress.hidden = true
    const changed = results.filter((r) => r.change)
    toast(
      `Checked ${results.length}: ${results.filter((r) => r.result === 'valid').length} valid, ${changed.length} changed.`,
    )
  }
  const editRemark = async (ids, current = '') => {
    const remark = prompt('Remark', current)
    if (remark !== null) await patch(ids, { remark })
  }
  const remove = async (ids) => {
    if (confirm(`Delete ${ids.length} key(s)? This cannot be undone.`)) {
      await api('/keys', { method: 'DELETE', body: { ids } })
      ids.forEach((id) => state.selected.delete(id))
    }
  }
  const exportKeys = async (format) => {
    const full = confirm('Export full keys? Cancel exports them masked.')
    const text = await api('/keys/export', { method: 'POST', body: { ids: ids(), provider, format, full } })
    const link = h('a', {
      href: URL.createObjectURL(new Blob([text], { type: format === 'csv' ? 'text/csv' : 'text/plain' })),
      download: `keyrelay-keys.${format}`,
      hidden: true,
    })
    document.body.append(link)
    link.click()
    link.remove()
    // Revoked only once the browser has started the download.
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000)
  }

  const drawBulk = () => {
    bulk.hidden = state.selected.size === 0
    bulk.replaceChildren(
      h('span', {}, `${state.selected.size} selected`),
      h('button', { type: 'button', onclick: act(() => check(ids())) }, 'Check now'),
      h('button', { type: 'button', onclick: act(() => patch(ids(), { status: 'blocked' })) }, 'Block'),
      h('button', { type: 'button', onclick: act(() => patch(ids(), { status: 'active' })) }, 'Unblock'),
      h(
        'button',
        { type: 'button', onclick: act(() => patch(ids(), { clearCooldowns: true })) },
        'Clear cooldowns',
      ),
      h('button', { type: 'button', onclick: act(() => editRemark(ids())) }, 'Edit remark'),
      h('button', { type: 'button', onclick: act(() => exportKeys('txt')) }, 'Export text'),
      h('button', { type: 'button', onclick: act(() => exportKeys('csv')) }, 'Export CSV'),
      h('button', { type: 'button', class: 'danger', onclick: act(() => remove(ids())) }, 'Delete'),
    )
  }

  const row = (k) => {
    const cooldowns = Object.entries(k.cooldowns).map(
      ([model, c]) => `${model === '*' ? 'all models' : model}: ${left(c.until)}`,
    )
    const selected = state.selected.has(k.id)
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
          onchange: (e) => {
            if (e.target.checked) state.selected.add(k.id)
            else state.selected.delete(k.id)
            drawBulk()
          },
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
        h('button', { type: 'button', onclick: act(() => check([k.id])) }, 'Check'),
        k.status === 'blocked'
          ? h(
              'button',
              { type: 'button', onclick: act(() => patch([k.id], { status: 'active' })) },
              'Unblock',
            )
          : h(
              'button',
              { type: 'button', onclick: act(() => patch([k.id], { status: 'blocked' })) },
              'Block',
            ),
        Object.keys(k.cooldowns).length
          ? h(
              'button',
              { type: 'button', onclick: act(() => patch([k.id], { clearCooldowns: true })) },
              'Clear',
            )
          : null,
        h('button', { type: 'button', onclick: act(() => editRemark([k.id], k.remark)) }, 'Remark'),
        h('button', { type: 'button', class: 'danger', onclick: act(() => remove([k.id])) }, 'Delete'),
      ),
    )
  }

  const draw = () => {
    head.replaceChildren(
      h(
        'th',
        {},
        h('input', {
          type: 'checkbox',
          'aria-label': 'Select all on this page',
          checked: state.rows.length > 0 && state.rows.every((k) => state.selected.has(k.id)),
          onchange: (e) => {
            for (const k of state.rows) {
              if (e.target.checked) state.selected.add(k.id)
              else state.selected.delete(k.id)
            }
            draw()
          },
        }),
      ),
      ...COLUMNS.map(([sort, label]) =>
        h(
          'th',
          {
            'aria-sort':
              state.sort === sort ? (state.order === 'asc' ? 'ascending' : 'descending') : undefined,
          },
          h(
            'button',
            {
              type: 'button',
              class: 'link',
              onclick: act(async () => {
                state.order = state.sort === sort && state.order === 'asc' ? 'desc' : 'asc'
                state.sort = sort
                state.offset = 0
              }),
            },
            label,
            state.sort === sort ? (state.order === 'asc' ? ' ▲' : ' ▼') : '',
          ),
        ),
      ),
      h('th', {}, 'Actions'),
    )
    table.replaceChildren(...state.rows.map(row))
    const last = Math.min(state.total, state.offset + PAGE)
    info.textContent = state.total ? `${state.offset + 1}–${last} of ${state.total}` : 'No keys match.'
    prev.disabled = state.offset === 0
    next.disabled = last >= state.total
    drawBulk()
  }

  let timer
  const search = h('input', {
    id: 'search',
    type: 'search',
    placeholder: 'Key fragment or remark',
    oninput: (e) => {
      clearTimeout(timer)
      timer = setTimeout(
        act(async () => {
          state.q = e.target.value.trim()
          state.offset = 0
        }),
        250,
      )
    },
  })
  const status = h(
    'select',
    { id: 'status-filter', onchange: act(async () => ((state.status = status.value), (state.offset = 0))) },
    h('option', { value: '' }, 'All'),
    h('option', { value: 'available' }, 'Active'),
    h('option', { value: 'cooling' }, 'Cooling'),
    h('option', { value: 'blocked' }, 'Blocked'),
  )
  const prev = h(
    'button',
    { type: 'button', onclick: act(async () => (state.offset = Math.max(0, state.offset - PAGE))) },
    'Previous',
  )
  const next = h('button', { type: 'button', onclick: act(async () => (state.offset += PAGE)) }, 'Next')
  const deleteBlocked = act(async () => {
    if (confirm(`Delete every blocked ${provider} key? This cannot be undone.`)) {
      const r = await api('/keys', { method: 'DELETE', body: { status: 'blocked', provider } })
      toast(`Deleted ${r.deleted} blocked key(s).`)
    }
  })

  view.replaceChildren(
    h(
      'div',
      { class: 'title-row' },
      h('h1', {}, provider),
      h('a', { class: 'button', href: `#/add/${encodeURIComponent(provider)}` }, 'Add keys'),
    ),
    h(
      'div',
      { class: 'filters' },
      h('label', { for: 'search' }, 'Search'),
      search,
      h('label', { for: 'status-filter' }, 'Status'),
      status,
      h('button', { type: 'button', class: 'danger', onclick: deleteBlocked }, 'Delete all blocked'),
    ),
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
