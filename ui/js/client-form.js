import { explain } from './api.js'
import { h, showDialog } from './dom.js'

const whole = (label) => (text) =>
  text === ''
    ? { value: undefined }
    : /^\d{1,12}$/.test(text) && Number(text) >= 1
      ? { value: Number(text) }
      : { error: `${label} is a whole number from 1 up, or empty for no limit.` }

/** The quota fields, in the admin API's names; empty means no limit. */
export const QUOTA_FIELDS = [
  { name: 'requestsPerMinute', label: 'Requests per minute' },
  { name: 'requestsPerDay', label: 'Requests per day' },
  { name: 'tokensPerDay', label: 'Tokens per day' },
  { name: 'tokensPerMonth', label: 'Tokens per month' },
].map((f) => ({ ...f, read: whole(f.label) }))

/** `YYYY-MM-DD` for a unix time, in the browser's own calendar (what a date input shows). */
const dateOf = (unix) => {
  const d = new Date(unix * 1000)
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
}

/**
 * The client key form: name, allowed models (AUTH_KEY's grammar), expiry, stored objects, quotas.
 * Every field is checked here with the reason in words before anything is sent; the Worker checks
 * the same rules (admin/clients.schemas.ts) and its refusal is shown in the form, which stays open.
 * `current` is the client being edited (undefined: a new one). Resolves to `save`'s answer, or
 * undefined when cancelled.
 */
export function clientForm(current, save) {
  return new Promise((resolve) => {
    const field = (name, label, help, attrs = {}) => {
      const input = h('input', {
        id: `client-${name}`,
        name,
        'aria-describedby': `client-${name}-help client-${name}-error`,
        ...attrs,
      })
      const error = h('p', { class: 'error', id: `client-${name}-error`, role: 'alert' })
      const row = h(
        'div',
        { class: 'field' },
        h('label', { for: input.id }, label),
        input,
        help ? h('p', { class: 'muted help', id: `client-${name}-help` }, help) : null,
        error,
      )
      return { input, error, row }
    }
    const name = field('name', 'Name', 'Who holds it: a person, a team or an app.', {
      value: current?.name ?? '',
      maxlength: 100,
    })
    const allow = field(
      'allow',
      'Allowed models',
      'Empty: every provider and model. Otherwise provider,model,model&provider (a provider alone allows all its models), e.g. google-ai-studio,gemini-2.5-flash&groq',
      { value: current?.allow ?? '', class: 'mono', spellcheck: 'false' },
    )
    const expires = field('expires', 'Expires', 'Empty: never. It stops working at the start of that day.', {
      type: 'date',
      value: current?.expiresAt ? dateOf(current.expiresAt) : '',
    })
    const stored = h('input', {
      type: 'checkbox',
      id: 'client-stored',
      checked: current?.storedObjects ?? false,
    })
    const quotas = QUOTA_FIELDS.map((q) => ({
      ...q,
      ...field(q.name, q.label, undefined, {
        value: current?.quotas?.[q.name] ?? '',
        inputmode: 'numeric',
        placeholder: 'no limit',
      }),
    }))
    const failure = h('p', { class: 'error', role: 'alert' })
    const form = h(
      'form',
      { method: 'dialog', class: 'stack', novalidate: true },
      name.row,
      allow.row,
      expires.row,
      h(
        'label',
        { class: 'inline' },
        stored,
        ' May upload files and create batches (stored objects, shared by every key of a provider)',
      ),
      h(
        'fieldset',
        { class: 'quotas' },
        h('legend', {}, 'Quotas (days and months in UTC; empty: no limit)'),
        ...quotas.map((q) => q.row),
      ),
      failure,
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'submit' }, current ? 'Save' : 'Create key'),
        h('button', { type: 'button', class: 'secondary', onclick: () => close(undefined) }, 'Cancel'),
      ),
    )
    const title = current ? `Edit client key “${current.name}”` : 'New client key'
    const dialog = h(
      'dialog',
      { class: 'choice form', 'aria-labelledby': 'client-form-title' },
      h('h2', { id: 'client-form-title' }, title),
      form,
    )
    const close = showDialog(dialog, resolve, undefined)
    form.addEventListener('submit', async (event) => {
      event.preventDefault()
      failure.textContent = ''
      for (const f of [name, allow, expires, ...quotas]) f.error.textContent = ''
      const body = { name: name.input.value.trim(), allow: allow.input.value.trim() || null, quotas: {} }
      let valid = true
      const refuse = (f, text) => {
        f.error.textContent = text
        valid = false
      }
      if (body.name === '') refuse(name, 'Give it a name.')
      if (/\s/.test(body.allow ?? '')) refuse(allow, 'No spaces: rules are joined by & and models by commas.')
      if (expires.input.value === '') body.expiresAt = null
      else {
        // Local midnight of the chosen day: what the operator picked on their own calendar.
        const at = new Date(`${expires.input.value}T00:00:00`).getTime() / 1000
        if (!(at > Date.now() / 1000)) refuse(expires, 'Pick a day after today, or disable the key instead.')
        else body.expiresAt = at
      }
      body.storedObjects = stored.checked
      for (const q of quotas) {
        const read = q.read(q.input.value.trim())
        if ('error' in read) refuse(q, read.error)
        else if (read.value !== undefined) body.quotas[q.name] = read.value
      }
      if (!valid) return
      try {
        close(await save(body))
      } catch (e) {
        failure.textContent =
          e?.code === 'invalid_allow' ? `Allowed models: ${e.message}.` : explain(e, 'save the client key')
      }
    })
    name.input.focus()
  })
}

/**
 * The new key, shown once: it is stored only as a hash, so this dialog is the one chance to copy it.
 * Resolves when closed.
 */
export function showNewKey(client, key) {
  return new Promise((resolve) => {
    const output = h('input', {
      id: 'new-client-key',
      class: 'mono',
      value: key,
      readonly: true,
      'aria-label': `The key for ${client.name}`,
    })
    const said = h('p', { class: 'muted', role: 'status' })
    const dialog = h(
      'dialog',
      { class: 'choice form', 'aria-labelledby': 'new-key-title' },
      h('h2', { id: 'new-key-title' }, `Key for “${client.name}”`),
      h(
        'p',
        {},
        'Copy it now: it is shown this once and stored only as a hash. A lost key is replaced by a new one.',
      ),
      output,
      said,
      h(
        'div',
        { class: 'row' },
        h(
          'button',
          {
            type: 'button',
            onclick: async () => {
              output.select()
              try {
                await navigator.clipboard.writeText(key)
                said.textContent = 'Copied.'
              } catch {
                said.textContent = 'Selected: copy it with Ctrl+C (⌘C).'
              }
            },
          },
          'Copy',
        ),
        h('button', { type: 'button', class: 'secondary', onclick: () => close() }, 'Done'),
      ),
    )
    const close = showDialog(dialog, resolve, undefined)
    output.select()
  })
}
