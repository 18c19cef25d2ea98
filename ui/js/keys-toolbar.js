import { h } from './dom.js'

/** The bulk toolbar: the same actions as a row's, for every selected key; hidden with none selected. */
export function drawToolbar(bulk, { selected, actions, act, onRemoved }) {
  const ids = () => [...selected]
  const button = (label, run, doing, cls) =>
    h('button', { type: 'button', class: cls, onclick: act(() => run(ids()), doing) }, label)
  bulk.hidden = selected.size === 0
  if (bulk.hidden) return bulk.replaceChildren()
  bulk.replaceChildren(
    h('span', {}, `${selected.size} selected`),
    button('Check now', actions.check, 'check the keys'),
    button('Block', actions.block, 'block the keys'),
    button('Unblock', actions.unblock, 'unblock the keys'),
    button('Clear cooldowns', actions.clearCooldowns, 'clear the cooldowns'),
    button('Edit…', (ids) => actions.edit(ids), 'edit the keys'),
    button('Export text', (ids) => actions.export(ids, 'txt'), 'export the keys'),
    button('Export CSV', (ids) => actions.export(ids, 'csv'), 'export the keys'),
    button(
      'Delete',
      async (ids) => (await actions.remove(ids)) && onRemoved(ids),
      'delete the keys',
      'danger',
    ),
  )
}
