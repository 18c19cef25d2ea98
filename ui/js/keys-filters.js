import { api } from './api.js'
import { h, toast } from './dom.js'

/**
 * Search, status and group filters (and the provider, on the all-keys page), and "delete all
 * blocked"; `onChange(patch)` re-queries from the first page.
 */
export function filters({ provider, providers, act, onChange }) {
  const debounced = (name) => {
    let timer
    return (e) => {
      clearTimeout(timer)
      timer = setTimeout(
        act(() => onChange({ [name]: e.target.value.trim() }), 'filter the keys'),
        250,
      )
    }
  }
  const search = h('input', {
    id: 'search',
    type: 'search',
    placeholder: 'Key fragment or remark',
    oninput: debounced('q'),
  })
  const group = h('input', {
    id: 'group-filter',
    type: 'search',
    placeholder: 'Group',
    oninput: debounced('group'),
  })
  const status = h(
    'select',
    { id: 'status-filter', onchange: act(() => onChange({ status: status.value }), 'filter the keys') },
    h('option', { value: '' }, 'All'),
    h('option', { value: 'available' }, 'Active'),
    h('option', { value: 'cooling' }, 'Cooling'),
    h('option', { value: 'blocked' }, 'Blocked'),
  )
  const providerSelect = provider
    ? null
    : h(
        'select',
        {
          id: 'provider-filter',
          onchange: act(() => onChange({ provider: providerSelect.value }), 'filter the keys'),
        },
        h('option', { value: '' }, 'All providers'),
        providers.map((p) => h('option', { value: p }, p)),
      )
  const deleteBlocked = act(async () => {
    const which = provider ? `blocked ${provider} key` : 'blocked key of every provider'
    if (confirm(`Delete every ${which}? This cannot be undone.`)) {
      const r = await api('/keys', {
        method: 'DELETE',
        body: { status: 'blocked', ...(provider ? { provider } : {}) },
      })
      toast(`Deleted ${r.deleted} blocked key(s).`)
    }
  }, 'delete the blocked keys')
  return h(
    'div',
    { class: 'filters' },
    providerSelect ? [h('label', { for: 'provider-filter' }, 'Provider'), providerSelect] : null,
    h('label', { for: 'search' }, 'Search'),
    search,
    h('label', { for: 'status-filter' }, 'Status'),
    status,
    h('label', { for: 'group-filter' }, 'Group'),
    group,
    h('button', { type: 'button', class: 'danger', onclick: deleteBlocked }, 'Delete all blocked'),
  )
}
