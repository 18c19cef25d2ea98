import { api, explain } from './api.js'
import { clearToast, h, showDialog, toast } from './dom.js'

/**
 * Model aliases: a name clients use as their model and the `<provider>/<model>` targets it tries in
 * order, the next one when a target's keys are all limited or dead.
 */
export function renderAliases(view) {
  const refresh = async () => {
    const { routes } = await api('/routes')
    const act = (fn, doing) => async () => {
      clearToast()
      try {
        if (await fn()) await refresh()
      } catch (e) {
        toast(explain(e, doing), 'error')
      }
    }
    const edit = (route) => act(() => aliasForm(route), route ? 'change the alias' : 'create the alias')
    const remove = (route) =>
      act(async () => {
        if (!confirm(`Delete the alias “${route.name}”? Clients asking for it get 404.`)) return false
        await api(`/routes/${encodeURIComponent(route.name)}`, { method: 'DELETE' })
        toast(`Deleted “${route.name}”.`)
        return true
      }, 'delete the alias')
    view.replaceChildren(
      h(
        'div',
        { class: 'title-row' },
        h('h1', {}, 'Model aliases'),
        h('button', { type: 'button', onclick: edit(undefined) }, 'New alias…'),
      ),
      h(
        'p',
        { class: 'muted hint' },
        'Clients name an alias as their model on /api/compat; its targets are tried in order, the next when every key of one is limited or dead.',
      ),
      routes.length === 0
        ? h('p', { class: 'empty' }, 'No aliases yet.')
        : h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { class: 'aliases' },
              h('caption', {}, `${routes.length} alias${routes.length === 1 ? '' : 'es'}`),
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  ['Alias', 'Targets, in order', ''].map((t) => h('th', { scope: 'col' }, t)),
                ),
              ),
              h(
                'tbody',
                {},
                routes.map((r) =>
                  h(
                    'tr',
                    { 'data-name': r.name },
                    h('td', { 'data-label': 'Alias', class: 'mono' }, r.name),
                    h(
                      'td',
                      { 'data-label': 'Targets' },
                      h(
                        'ol',
                        { class: 'targets' },
                        r.targets.map((t) => h('li', { class: 'mono' }, t)),
                      ),
                    ),
                    h(
                      'td',
                      { class: 'actions' },
                      h(
                        'div',
                        { class: 'buttons' },
                        h('button', { type: 'button', class: 'secondary', onclick: edit(r) }, 'Edit…'),
                        h('button', { type: 'button', class: 'danger', onclick: remove(r) }, 'Delete'),
                      ),
                    ),
                  ),
                ),
              ),
            ),
          ),
    )
  }
  return { refresh }
}

/** Creates an alias, or changes an existing one's targets; resolves true once saved. */
function aliasForm(route) {
  return new Promise((resolve) => {
    const name = h('input', {
      id: 'alias-name',
      value: route?.name ?? '',
      readonly: route ? true : undefined,
    })
    const targets = h('textarea', {
      id: 'alias-targets',
      rows: 4,
      class: 'mono',
      spellcheck: 'false',
      placeholder: 'google-ai-studio/gemini-2.5-pro\ngroq/llama-3.3-70b-versatile',
    })
    targets.value = route?.targets.join('\n') ?? ''
    const failure = h('p', { class: 'error', role: 'alert' })
    const form = h(
      'form',
      { method: 'dialog', class: 'stack', novalidate: true },
      h('div', { class: 'field' }, h('label', { for: name.id }, 'Alias'), name),
      h(
        'div',
        { class: 'field' },
        h('label', { for: targets.id }, 'Targets, one per line, first tried first'),
        targets,
        h('p', { class: 'muted help' }, 'Each <provider>/<model>, as on /api/compat; at most 8.'),
      ),
      failure,
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'submit' }, route ? 'Save' : 'Create alias'),
        h('button', { type: 'button', class: 'secondary', onclick: () => close(false) }, 'Cancel'),
      ),
    )
    const dialog = h(
      'dialog',
      { class: 'choice form', 'aria-labelledby': 'alias-title' },
      h('h2', { id: 'alias-title' }, route ? `Alias “${route.name}”` : 'New alias'),
      form,
    )
    const close = showDialog(dialog, resolve, false)
    form.addEventListener('submit', async (event) => {
      event.preventDefault()
      failure.textContent = ''
      const list = targets.value
        .split('\n')
        .map((t) => t.trim())
        .filter(Boolean)
      if (list.length === 0) {
        failure.textContent = 'Give at least one target.'
        return
      }
      try {
        if (route)
          await api(`/routes/${encodeURIComponent(route.name)}`, { method: 'PATCH', body: { targets: list } })
        else await api('/routes', { method: 'POST', body: { name: name.value.trim(), targets: list } })
        close(true)
      } catch (e) {
        failure.textContent =
          e?.code?.startsWith('invalid_') || e?.code === 'route_exists'
            ? `${e.message}.`
            : explain(e, 'save the alias')
      }
    })
    ;(route ? targets : name).focus()
  })
}
