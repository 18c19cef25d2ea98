import { api, explain } from './api.js'
import { clientForm, showNewKey } from './client-form.js'
import { clearToast, h, toast } from './dom.js'

const count = new Intl.NumberFormat()
export const number = (n) => count.format(n)

/** What a quota is measured against: the usage figure it is counted in, and its period. */
const QUOTA_USE = {
  requestsPerMinute: () => ({ used: undefined, text: 'requests per minute' }),
  requestsPerDay: (u) => ({ used: u.today.requests, text: 'requests today' }),
  tokensPerDay: (u) => ({ used: u.today.tokens, text: 'tokens today' }),
  tokensPerMonth: (u) => ({ used: u.month.tokens, text: 'tokens this month' }),
}

/** Each quota set on a client, with its usage: "12 of 100 requests today", and a meter. */
export function quotaLines(c) {
  const entries = Object.entries(c.quotas)
  if (entries.length === 0) return h('span', { class: 'muted' }, 'no quotas')
  return h(
    'ul',
    { class: 'quota-list' },
    entries.map(([name, limit]) => {
      const { used, text } = QUOTA_USE[name](c.usage)
      if (used === undefined) return h('li', {}, `at most ${number(limit)} ${text}`)
      return h(
        'li',
        { class: used >= limit ? 'spent' : undefined },
        h('meter', {
          min: 0,
          max: limit,
          value: Math.min(used, limit),
          low: limit * 0.8,
          high: limit * 0.95,
          optimum: 0,
        }),
        ` ${number(used)} of ${number(limit)} ${text}`,
      )
    }),
  )
}

/** `google-ai-studio,gemini-2.5-flash&groq` as people read it: one rule a line, models after a colon. */
export function allowText(allow) {
  if (!allow) return 'every provider and model'
  return allow.split('&').map((rule) => {
    const [provider, ...models] = rule.split(',')
    return h('div', {}, models.length ? `${provider}: ${models.join(', ')}` : `${provider} (every model)`)
  })
}

const usageCell = (u) => [
  h('div', {}, `${number(u.requests)} requests`),
  h('div', { class: 'muted' }, `${number(u.tokens)} tokens`),
]

export function statusOf(c) {
  if (c.expired) return { text: 'expired', cls: 'blocked' }
  if (c.status === 'disabled') return { text: 'disabled', cls: 'cooling' }
  return { text: 'active', cls: 'active' }
}

export const expiryText = (c) =>
  c.expiresAt ? new Date(c.expiresAt * 1000).toLocaleDateString([], { dateStyle: 'medium' }) : 'never'

/** The operations a client row and a client's page share, each reloading what is shown after it. */
export function clientActions(reload) {
  /** Runs an action, then shows what is there now (unless the action left the page). */
  const act = (fn, doing) => async () => {
    clearToast()
    try {
      if ((await fn()) !== 'left') await reload()
    } catch (e) {
      toast(explain(e, doing), 'error')
    }
  }
  return {
    edit: (c) =>
      act(async () => {
        const saved = await clientForm(c, (body) => api(`/clients/${c.id}`, { method: 'PATCH', body }))
        if (saved) toast(`Saved “${saved.client.name}”.`)
      }, 'edit the client key'),
    toggle: (c) =>
      act(async () => {
        const status = c.status === 'disabled' ? 'active' : 'disabled'
        await api(`/clients/${c.id}`, { method: 'PATCH', body: { status } })
        toast(status === 'disabled' ? `“${c.name}” is disabled.` : `“${c.name}” works again.`)
      }, 'change the client key'),
    remove: (c, after) =>
      act(async () => {
        if (!confirm(`Delete the client key “${c.name}”? It stops working at once. This cannot be undone.`))
          return
        await api(`/clients/${c.id}`, { method: 'DELETE' })
        toast(`Deleted “${c.name}”.`)
        if (!after) return undefined
        after()
        return 'left'
      }, 'delete the client key'),
  }
}

function clientRow(c, actions) {
  const status = statusOf(c)
  return h(
    'tr',
    { 'data-id': c.id },
    h(
      'td',
      { 'data-label': 'Name' },
      h('a', { href: `#/client/${c.id}` }, c.name),
      h('div', { class: 'mono muted' }, c.keyHint),
    ),
    h('td', { 'data-label': 'Status' }, h('span', { class: `badge ${status.cls}` }, status.text)),
    h('td', { 'data-label': 'Models', class: 'allow' }, allowText(c.allow)),
    h('td', { 'data-label': 'Today', class: 'num' }, usageCell(c.usage.today)),
    h('td', { 'data-label': 'This month', class: 'num' }, usageCell(c.usage.month)),
    h('td', { 'data-label': 'Quotas' }, quotaLines(c)),
    h('td', { 'data-label': 'Expires' }, expiryText(c)),
    h(
      'td',
      { class: 'actions' },
      h(
        'div',
        { class: 'buttons' },
        h('button', { type: 'button', class: 'secondary', onclick: actions.edit(c) }, 'Edit…'),
        h(
          'button',
          { type: 'button', class: 'secondary', onclick: actions.toggle(c) },
          c.status === 'disabled' ? 'Enable' : 'Disable',
        ),
        h('button', { type: 'button', class: 'danger', onclick: actions.remove(c) }, 'Delete'),
      ),
    ),
  )
}

/**
 * The Clients page: the keys an operator hands out, each with its models, quotas and usage today and
 * this month; a new key is shown once, in its own dialog.
 */
export function renderClients(view) {
  const refresh = async () => {
    const { clients } = await api('/clients')
    const actions = clientActions(refresh)
    const create = async () => {
      clearToast()
      const made = await clientForm(undefined, (body) => api('/clients', { method: 'POST', body }))
      if (!made) return
      await showNewKey(made.client, made.key)
      await refresh().catch((e) => toast(explain(e, 'load the client keys'), 'error'))
    }
    const table =
      clients.length === 0
        ? h(
            'p',
            { class: 'empty' },
            'No client keys yet. Each person or app you give access gets its own key, with the models it may use and its quotas; AUTH_KEY keeps working as it is.',
          )
        : h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { class: 'clients' },
              h('caption', {}, `${clients.length} client key${clients.length === 1 ? '' : 's'}`),
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  ['Name', 'Status', 'Models', 'Today', 'This month', 'Quotas', 'Expires', ''].map((t) =>
                    h('th', { scope: 'col' }, t),
                  ),
                ),
              ),
              h(
                'tbody',
                {},
                clients.map((c) => clientRow(c, actions)),
              ),
            ),
          )
    view.replaceChildren(
      h(
        'div',
        { class: 'title-row' },
        h('h1', {}, 'Client keys'),
        h('button', { type: 'button', onclick: create }, 'New client key…'),
      ),
      h(
        'p',
        { class: 'muted hint' },
        'Usage counts every request a key made and the tokens its answers reported; days and months are UTC.',
      ),
      h(
        'p',
        { class: 'row exports' },
        'Usage, last 30 days, as CSV:',
        [
          ['client', 'per client key'],
          ['key', 'per pool key and model'],
          ['model', 'per model'],
        ].map(([by, text]) =>
          h(
            'a',
            { href: `/admin/api/usage?by=${by}&days=30&format=csv`, download: `keyrelay-usage-by-${by}.csv` },
            text,
          ),
        ),
      ),
      table,
    )
  }
  return { refresh }
}
