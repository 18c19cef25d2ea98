import { api } from './api.js'
import { h, toast } from './dom.js'

/** Search, status filter and "delete all blocked"; `onChange(patch)` re-queries from the first page. */
export function filters({ provider, act, onChange }) {
  let timer
  const search = h('input', {
    id: 'search',
    type: 'search',
    placeholder: 'Key fragment or remark',
    oninput: (e) => {
      clearTimeout(timer)
      timer = setTimeout(
        act(() => onChange({ q: e.target.value.trim() })),
        250,
      )
    },
  })
  const status = h(
    'select',
    { id: 'status-filter', onchange: act(() => onChange({ status: status.value })) },
    h('option', { value: '' }, 'All'),
    h('option', { value: 'available' }, 'Active'),
    h('option', { value: 'cooling' }, 'Cooling'),
    h('option', { value: 'blocked' }, 'Blocked'),
  )
  const deleteBlocked = act(async () => {
    if (confirm(`Delete every blocked ${provider} key? This cannot be undone.`)) {
      const r = await api('/keys', { method: 'DELETE', body: { status: 'blocked', provider } })
      toast(`Deleted ${r.deleted} blocked key(s).`)
    }
  })
  return h(
    'div',
    { class: 'filters' },
    h('label', { for: 'search' }, 'Search'),
    search,
    h('label', { for: 'status-filter' }, 'Status'),
    status,
    h('button', { type: 'button', class: 'danger', onclick: deleteBlocked }, 'Delete all blocked'),
  )
}
