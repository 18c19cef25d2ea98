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

const SVG = 'http://www.w3.org/2000/svg'

/** A small bar chart of hourly values (24 hours ending now). */
export function sparkline(hourly, label) {
  const now = Math.floor(Date.now() / 1000)
  const start = now - (now % 3600) - 23 * 3600
  const values = Array.from({ length: 24 }, (_, i) => hourly.find((x) => x.hour === start + i * 3600) ?? null)
  const max = Math.max(1, ...values.map((v) => v?.requests ?? 0))
  const svg = document.createElementNS(SVG, 'svg')
  svg.setAttribute('viewBox', '0 0 96 24')
  svg.setAttribute('class', 'spark')
  svg.setAttribute('role', 'img')
  svg.setAttribute('aria-label', label)
  values.forEach((v, i) => {
    if (!v) return
    const total = (v.requests / max) * 22
    const limited = (v.rateLimited / max) * 22
    for (const [y, height, cls] of [
      [24 - total, total - limited, 'ok'],
      [24 - limited, limited, 'limited'],
    ]) {
      if (height <= 0) continue
      const rect = document.createElementNS(SVG, 'rect')
      rect.setAttribute('x', String(i * 4))
      rect.setAttribute('y', String(y))
      rect.setAttribute('width', '3')
      rect.setAttribute('height', String(height))
      rect.setAttribute('class', cls)
      svg.append(rect)
    }
  })
  return svg
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

export function toast(text, kind = 'info') {
  const el = document.getElementById('toast')
  el.textContent = text
  el.className = `toast ${kind}`
  el.hidden = false
  clearTimeout(toast.timer)
  toast.timer = setTimeout(() => (el.hidden = true), 5000)
}

export const percent = (part, whole) => (whole > 0 ? `${Math.round((part / whole) * 100)}%` : '—')
