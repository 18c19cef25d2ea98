import { h } from './dom.js'

/** The bulk toolbar: the same actions as a row's, for every selected key. */
export function drawToolbar(bulk, { selected, actions, act, onRemoved }) {
  const ids = () => [...selected]
  const button = (label, run, cls) =>
    h('button', { type: 'button', class: cls, onclick: act(() => run(ids())) }, label)
  bulk.hidden = selected.size === 0
  bulk.replaceChildren(
    h('span', {}, `${selected.size} selected`),
    button('Check now', actions.check),
    button('Block', actions.block),
    button('Unblock', actions.unblock),
    button('Clear cooldowns', actions.clearCooldowns),
    button('Edit remark', (ids) => actions.editRemark(ids)),
    button('Export text', (ids) => actions.export(ids, 'txt')),
    button('Export CSV', (ids) => actions.export(ids, 'csv')),
    button('Delete', async (ids) => (await actions.remove(ids)) && onRemoved(ids), 'danger'),
  )
}
