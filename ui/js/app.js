import { api, ApiError, explain } from './api.js'
import { renderAdd } from './add.js'
import { renderAliases } from './aliases.js'
import { renderClientDetail } from './client-detail.js'
import { renderClients } from './clients.js'
import { toast } from './dom.js'
import { renderKeyDetail } from './key-detail.js'
import { renderKeys } from './keys.js'
import { renderOverview } from './overview.js'
import { setupPanel } from './setup.js'

const $ = (id) => document.getElementById(id)
const REFRESH_MS = 10_000
let current

function showLogin(message = '') {
  $('login').hidden = false
  $('nav').hidden = true
  $('view').replaceChildren()
  $('login-error').textContent = message
  $('auth-key').focus()
}

async function route() {
  const [, page, arg] = location.hash.split('/')
  const view = $('view')
  $('login').hidden = true
  $('nav').hidden = false
  try {
    if (page === 'key' && arg) {
      current = renderKeyDetail(view, decodeURIComponent(arg))
    } else if (page === 'client' && arg) {
      current = renderClientDetail(view, decodeURIComponent(arg))
    } else if (page === 'aliases') {
      current = renderAliases(view)
    } else if (page === 'clients') {
      current = renderClients(view)
    } else if (page === 'keys') {
      current = renderKeys(view, arg ? decodeURIComponent(arg) : '')
    } else if (page === 'add') {
      const { providers } = await api('/providers')
      renderAdd(view, providers, arg ? decodeURIComponent(arg) : undefined)
      current = undefined
      return
    } else {
      // The setup check runs once per visit; refreshes redraw the cards around the same panel.
      const setup = setupPanel()
      const range = page === 'overview' && arg === '7d' ? '7d' : '24h'
      current = { refresh: () => renderOverview(view, setup, range) }
    }
    await current.refresh()
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) showLogin()
    else toast(explain(e, 'load this page'), 'error')
  }
}

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  try {
    await api('/session', { method: 'POST', body: { authKey: $('auth-key').value } })
    $('auth-key').value = ''
    await route()
  } catch (e) {
    showLogin(e.code === 'auth_throttled' ? e.message : 'That AUTH_KEY was not accepted.')
  }
})

$('logout').addEventListener('click', async () => {
  await api('/session', { method: 'DELETE' }).catch(() => undefined)
  showLogin()
})

window.addEventListener('hashchange', route)
// Live enough: what is on screen is re-read every few seconds while the tab is visible.
setInterval(() => {
  if (document.visibilityState === 'visible' && current && $('login').hidden) current.refresh()
}, REFRESH_MS)

// Answered 200 either way, so a page with no session loads with a clean console.
api('/session').then(
  ({ authenticated }) => (authenticated ? route() : showLogin()),
  () => showLogin(),
)
