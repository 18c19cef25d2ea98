const SVG = 'http://www.w3.org/2000/svg'

function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name)
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v))
  if (text !== undefined) node.textContent = text
  return node
}

const hourLabel = (unix) =>
  new Date(unix * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })

/**
 * Requests per hour over the last 24 hours, with 429s stacked on top: a labelled axis (the busiest
 * hour's count, and three times of day) and each bar's figures on hover.
 */
export function hourlyChart(hourly, label) {
  const now = Math.floor(Date.now() / 1000)
  const start = now - (now % 3600) - 23 * 3600
  const values = Array.from({ length: 24 }, (_, i) => hourly.find((x) => x.hour === start + i * 3600) ?? null)
  const max = Math.max(1, ...values.map((v) => v?.requests ?? 0))
  const [left, top, width, height] = [22, 4, 192, 44]
  const svg = el('svg', { viewBox: '0 0 220 64', class: 'chart', role: 'img', 'aria-label': label })
  svg.append(
    el('text', { x: left - 3, y: top + 6, class: 'axis', 'text-anchor': 'end' }, String(max)),
    el('text', { x: left - 3, y: top + height, class: 'axis', 'text-anchor': 'end' }, '0'),
    el('line', { x1: left, y1: top + height, x2: left + width, y2: top + height, class: 'base' }),
  )
  for (const [i, anchor] of [
    [0, 'start'],
    [12, 'middle'],
    [23, 'end'],
  ]) {
    svg.append(
      el(
        'text',
        { x: left + i * 8 + 4, y: 62, class: 'axis', 'text-anchor': anchor },
        hourLabel(start + i * 3600),
      ),
    )
  }
  values.forEach((v, i) => {
    if (!v) return
    const x = left + i * 8 + 1
    const total = (v.requests / max) * height
    const limited = (v.rateLimited / max) * height
    const group = el('g', { class: 'bar' })
    group.append(
      el(
        'title',
        {},
        `${hourLabel(start + i * 3600)}: ${v.requests} requests, ${v.successes} ok, ${v.rateLimited} × 429, ${v.errors ?? 0} errors`,
      ),
      el('rect', { x, y: top + height - total, width: 6, height: Math.max(0, total - limited), class: 'ok' }),
      el('rect', { x, y: top + height - limited, width: 6, height: limited, class: 'limited' }),
    )
    svg.append(group)
  })
  return svg
}

/**
 * Keys coming back from cooldown over the next 24 hours, one bar per hour in which any return, so an
 * operator sees "at 09:00 40 keys return". The hover names the models whose cooldowns end then.
 */
export function returningChart(returning, label) {
  const now = Math.floor(Date.now() / 1000)
  const start = now - (now % 3600)
  const max = Math.max(1, ...returning.map((r) => r.keys))
  const [left, top, width, height] = [22, 4, 192, 44]
  const svg = el('svg', { viewBox: '0 0 220 64', class: 'chart returning', role: 'img', 'aria-label': label })
  svg.append(
    el('text', { x: left - 3, y: top + 6, class: 'axis', 'text-anchor': 'end' }, String(max)),
    el('text', { x: left - 3, y: top + height, class: 'axis', 'text-anchor': 'end' }, '0'),
    el('line', { x1: left, y1: top + height, x2: left + width, y2: top + height, class: 'base' }),
  )
  for (const [i, anchor] of [
    [0, 'start'],
    [12, 'middle'],
    [24, 'end'],
  ]) {
    svg.append(
      el(
        'text',
        { x: left + i * 8, y: 62, class: 'axis', 'text-anchor': anchor },
        hourLabel(start + i * 3600),
      ),
    )
  }
  for (const r of returning) {
    const i = Math.round((r.hour - start) / 3600)
    if (i < 0 || i > 24) continue
    const models = Object.entries(r.models)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([m, n]) => `${m === '*' ? 'every model' : m} ${n}`)
      .join(', ')
    const bar = (r.keys / max) * height
    const group = el('g', { class: 'bar', 'data-hour': r.hour, 'data-keys': r.keys })
    group.append(
      el(
        'title',
        {},
        `${hourLabel(r.hour)}: ${r.keys} ${r.keys === 1 ? 'key returns' : 'keys return'} (${models})`,
      ),
      el('rect', {
        x: left + Math.min(i, 23) * 8 + 1,
        y: top + height - bar,
        width: 6,
        height: bar,
        class: 'back',
      }),
    )
    svg.append(group)
  }
  return svg
}
