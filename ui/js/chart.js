const SVG = 'http://www.w3.org/2000/svg'

function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name)
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v))
  if (text !== undefined) node.textContent = text
  return node
}

const hourLabel = (unix) =>
  new Date(unix * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
const dayLabel = (unix) => new Date(unix * 1000).toLocaleDateString([], { weekday: 'short', day: 'numeric' })

/**
 * A small bar chart as SVG (no library: about 2 KiB for the three charts below): a labelled value
 * axis (0 and the largest bar), labels under chosen slots, and each bar's figures on hover. A bar is
 * a stack of segments drawn bottom up, each with its CSS class.
 */
function barChart({ slots, bars, ticks, label, className = '' }) {
  const [left, top, width, height] = [22, 4, 192, 44]
  const step = width / slots
  const max = Math.max(1, ...bars.map((b) => b.segments.reduce((t, s) => t + s.value, 0)))
  const svg = el('svg', {
    viewBox: '0 0 220 64',
    class: `chart ${className}`.trim(),
    role: 'img',
    'aria-label': label,
  })
  svg.append(
    el('text', { x: left - 3, y: top + 6, class: 'axis', 'text-anchor': 'end' }, String(max)),
    el('text', { x: left - 3, y: top + height, class: 'axis', 'text-anchor': 'end' }, '0'),
    el('line', { x1: left, y1: top + height, x2: left + width, y2: top + height, class: 'base' }),
  )
  for (const t of ticks) {
    svg.append(el('text', { x: left + t.at * step, y: 62, class: 'axis', 'text-anchor': t.anchor }, t.text))
  }
  for (const bar of bars) {
    const group = el('g', { class: 'bar', ...bar.data })
    group.append(el('title', {}, bar.title))
    let base = top + height
    for (const s of bar.segments) {
      const tall = (s.value / max) * height
      base -= tall
      group.append(
        el('rect', {
          x: left + bar.slot * step + step / 8,
          y: base,
          width: (step * 3) / 4,
          height: tall,
          class: s.class,
        }),
      )
    }
    svg.append(group)
  }
  return svg
}

const usageTitle = (when, v) =>
  `${when}: ${v.requests} requests, ${v.successes} ok, ${v.rateLimited} × 429, ${v.errors ?? 0} errors`

const usageSegments = (v) => [
  { value: v.requests - v.rateLimited, class: 'ok' },
  { value: v.rateLimited, class: 'limited' },
]

/** Requests per hour over the last 24 hours, with 429s stacked on top. */
export function hourlyChart(hourly, label) {
  const now = Math.floor(Date.now() / 1000)
  const start = now - (now % 3600) - 23 * 3600
  const bars = hourly
    .map((v) => ({ v, slot: (v.hour - start) / 3600 }))
    .filter(({ slot }) => slot >= 0 && slot < 24)
    .map(({ v, slot }) => ({ slot, title: usageTitle(hourLabel(v.hour), v), segments: usageSegments(v) }))
  // Under the middle of the first, the 13th and the last hour's bar.
  const ticks = [
    [0, 'start'],
    [12, 'middle'],
    [23, 'end'],
  ].map(([i, anchor]) => ({ at: i + 0.5, anchor, text: hourLabel(start + i * 3600) }))
  return barChart({ slots: 24, bars, ticks, label })
}

/** Requests per day over the last 7 days (local days), with 429s stacked on top. */
export function dailyChart(hourly, label) {
  const today = new Date()
  today.setHours(0, 0, 0, 0)
  const start = today.getTime() / 1000 - 6 * 86_400
  const days = Array.from({ length: 7 }, () => null)
  for (const v of hourly) {
    // Days by the calendar, not by 86,400 s, so a daylight-saving change does not shift a bar.
    const d = new Date(v.hour * 1000)
    d.setHours(0, 0, 0, 0)
    const slot = Math.round((d.getTime() / 1000 - start) / 86_400)
    if (slot < 0 || slot > 6) continue
    const day = (days[slot] ??= {
      hour: d.getTime() / 1000,
      requests: 0,
      successes: 0,
      rateLimited: 0,
      errors: 0,
    })
    for (const k of ['requests', 'successes', 'rateLimited', 'errors']) day[k] += v[k] ?? 0
  }
  const bars = days.flatMap((v, slot) =>
    v ? [{ slot, title: usageTitle(dayLabel(v.hour), v), segments: usageSegments(v) }] : [],
  )
  const ticks = [
    { at: 0, anchor: 'start', text: dayLabel(start) },
    { at: 7, anchor: 'end', text: 'today' },
  ]
  return barChart({ slots: 7, bars, ticks, label, className: 'daily' })
}

/**
 * Keys coming back from cooldown over the next 24 hours, one bar per hour in which any return, so an
 * operator sees "at 09:00 40 keys return". The hover names the models whose cooldowns end then.
 */
export function returningChart(returning, label) {
  const now = Math.floor(Date.now() / 1000)
  const start = now - (now % 3600)
  const bars = returning
    .map((r) => ({ r, slot: Math.round((r.hour - start) / 3600) }))
    .filter(({ slot }) => slot >= 0 && slot <= 24)
    .map(({ r, slot }) => {
      const models = Object.entries(r.models)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([m, n]) => `${m === '*' ? 'every model' : m} ${n}`)
        .join(', ')
      return {
        slot: Math.min(slot, 23),
        data: { 'data-hour': r.hour, 'data-keys': r.keys },
        title: `${hourLabel(r.hour)}: ${r.keys} ${r.keys === 1 ? 'key returns' : 'keys return'} (${models})`,
        segments: [{ value: r.keys, class: 'back' }],
      }
    })
  const ticks = [
    { at: 0, anchor: 'start', text: hourLabel(start) },
    { at: 12, anchor: 'middle', text: hourLabel(start + 12 * 3600) },
    { at: 24, anchor: 'end', text: hourLabel(start + 24 * 3600) },
  ]
  return barChart({ slots: 24, bars, ticks, label, className: 'returning' })
}
