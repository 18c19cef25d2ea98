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
