import { explain } from './api.js'
import { h, showDialog } from './dom.js'

/**
 * Each setting as the admin API takes it, with the rule said in words. The Worker checks the same
 * rules (admin/keys.schemas.ts); these say what is wrong before anything is sent.
 */
const FIELDS = [
  {
    name: 'remark',
    label: 'Remark',
    help: 'A note for people, up to 200 characters.',
    read: (text) => (text.length > 200 ? { error: 'A remark is at most 200 characters.' } : { value: text }),
  },
  {
    name: 'group',
    label: 'Group',
    help: 'Keys that share one quota (a Google Cloud project, one account): together they get the traffic one key would, and a daily-quota or out-of-credit answer cools them together. Empty: no group.',
    read: (text) =>
      text === ''
        ? { value: null }
        : /^[\w.@:-]{1,64}$/.test(text)
          ? { value: text }
          : { error: 'A group is 1 to 64 letters, digits or . _ @ : - (no spaces).' },
  },
  {
    name: 'tier',
    label: 'Tier',
    help: '0 is used first; a tier-1 key only when no tier-0 key can serve the model, and so on.',
    read: (text) =>
      /^\d$/.test(text) ? { value: Number(text) } : { error: 'The tier is a whole number from 0 to 9.' },
  },
  {
    name: 'weight',
    label: 'Weight',
    help: 'Its share of traffic among the keys of its tier (a key of weight 2 serves twice as much; keys of a group share theirs).',
    read: (text) =>
      /^\d{1,4}$/.test(text) && Number(text) >= 1 && Number(text) <= 1000
        ? { value: Number(text) }
        : { error: 'The weight is a whole number from 1 to 1000.' },
  },
]

/**
 * Edits a key's settings (or many keys' at once) in a form: remark, group, tier and weight, each
 * checked with the reason in words. For one key the form shows its values; for many every field
 * starts empty and only those filled in change (a group is taken away with its own box). `save`
 * sends the change; an error it throws is shown in the form, which stays open. Resolves true once
 * saved, false when cancelled.
 */
export function editKeys(ids, current, save) {
  const many = ids.length > 1
  return new Promise((resolve) => {
    const inputs = new Map()
    const errors = new Map()
    const noGroup = h('input', { type: 'checkbox', id: 'edit-no-group' })
    const rows = FIELDS.map((f) => {
      const input = h('input', {
        id: `edit-${f.name}`,
        name: f.name,
        value: many ? '' : f.name === 'group' ? (current.group ?? '') : String(current[f.name] ?? ''),
        placeholder: many ? 'unchanged' : undefined,
        inputmode: f.name === 'tier' || f.name === 'weight' ? 'numeric' : undefined,
        'aria-describedby': `edit-${f.name}-help edit-${f.name}-error`,
      })
      const error = h('p', { class: 'error', id: `edit-${f.name}-error`, role: 'alert' })
      inputs.set(f.name, input)
      errors.set(f.name, error)
      return h(
        'div',
        { class: 'field' },
        h('label', { for: input.id }, f.label),
        input,
        h('p', { class: 'muted help', id: `edit-${f.name}-help` }, f.help),
        error,
        many && f.name === 'group'
          ? h('label', { class: 'inline' }, noGroup, ' Take them out of their group')
          : null,
      )
    })
    const failure = h('p', { class: 'error', role: 'alert' })
    const form = h(
      'form',
      { method: 'dialog', class: 'stack', novalidate: true },
      ...rows,
      failure,
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'submit' }, 'Save'),
        h('button', { type: 'button', class: 'secondary', onclick: () => close(false) }, 'Cancel'),
      ),
    )
    const dialog = h(
      'dialog',
      { class: 'choice form', 'aria-labelledby': 'edit-title' },
      h('h2', { id: 'edit-title' }, many ? `Edit ${ids.length} keys` : `Edit key #${ids[0]}`),
      form,
    )
    const close = showDialog(dialog, resolve, false)
    form.addEventListener('submit', async (event) => {
      event.preventDefault()
      failure.textContent = ''
      const body = {}
      let valid = true
      for (const f of FIELDS) {
        const text = inputs.get(f.name).value.trim()
        errors.get(f.name).textContent = ''
        if (many && text === '') continue
        const read = f.read(text)
        if ('error' in read) {
          errors.get(f.name).textContent = read.error
          valid = false
        } else body[f.name] = read.value
      }
      if (many && noGroup.checked) body.group = null
      if (!valid) return
      if (Object.keys(body).length === 0) {
        failure.textContent = 'Nothing to change: fill in a field.'
        return
      }
      try {
        await save(body)
        close(true)
      } catch (e) {
        failure.textContent = explain(e, 'save the change')
      }
    })
    inputs.get('remark').focus()
  })
}
