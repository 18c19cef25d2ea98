// Building the page: every value goes in as text (textContent), never as markup.

/** h('a', { href: '#', class: 'x', onclick }, 'text', child) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value)
    else if (name === 'class') el.className = value
    else if (value === true) el.setAttribute(name, '')
    else el.setAttribute(name, String(value))
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue
    el.append(child instanceof Node ? child : document.createTextNode(String(child)))
  }
  return el
}

/**
 * A cooldown scope or usage bucket as people read it. `*`, `(default)` and `(other)` are keyrelay's
 * own slots, not models: every model, requests that name no model (model lists, speech…), and the
 * models a provider never ran or metered (their names are callers' text).
 */
export function modelLabel(model) {
  if (model === '*') return 'all models'
  if (model === '(default)') return 'requests without a model'
  if (model === '(other)') return 'other models'
  return model
}

export function ago(seconds) {
  if (!seconds) return '—'
  const d = Math.max(0, Math.floor(Date.now() / 1000 - seconds))
  if (d < 60) return `${d}s ago`
  if (d < 3600) return `${Math.floor(d / 60)}m ago`
  if (d < 86400) return `${Math.floor(d / 3600)}h ago`
  return `${Math.floor(d / 86400)}d ago`
}

export function left(until) {
  const d = Math.max(0, Math.floor(until - Date.now() / 1000))
  if (d < 60) return `${d}s`
  if (d < 3600) return `${Math.floor(d / 60)}m ${d % 60}s`
  return `${Math.floor(d / 3600)}h ${Math.floor((d % 3600) / 60)}m`
}

/** The last action's message goes when the next action starts. */
export function clearToast() {
  clearTimeout(toast.timer)
  document.getElementById('toast').hidden = true
}

export function toast(text, kind = 'info') {
  const el = document.getElementById('toast')
  el.textContent = text
  el.className = `toast ${kind}`
  el.hidden = false
  clearTimeout(toast.timer)
  toast.timer = setTimeout(() => (el.hidden = true), 5000)
}

export const percent = (part, whole) => (whole > 0 ? `${Math.round((part / whole) * 100)}%` : '—')

const short = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 })
/** 1234567 → "1.2M": token counts at a glance (the exact figure is in the export). */
export const compact = (n) => short.format(n)

/**
 * Shows `dialog` as a modal and answers the function that closes it: `close(value)` removes it and
 * resolves the caller's promise with `value`; Escape closes it with `onEscape`.
 */
export function showDialog(dialog, resolve, onEscape) {
  const close = (value) => {
    dialog.close()
    dialog.remove()
    resolve(value)
  }
  dialog.addEventListener('cancel', () => close(onEscape))
  document.body.append(dialog)
  dialog.showModal()
  return close
}
