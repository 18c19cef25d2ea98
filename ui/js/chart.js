import { modelLabel } from './dom.js'

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

/** Said once on a page with charts: every bar's figures are in its readout line. */
export const CHART_HINT = 'Point at or tap a bar for its figures.'

/** The bar each chart (by its label) last showed, so a refresh every few seconds keeps the reading. */
const chosen = new Map()

/**
 * A small bar chart as SVG, hand-written rather than a library (see the README's "Dashboard" for the
 * measured comparison with uPlot): a value axis in round steps (valueTicks), with its unit, labels
 * under chosen slots, a legend, and each bar's figures in a readout line on hover, on tap (phones
 * have no hover) and with the arrow keys, as well as in the bar's <title>. A bar is a stack of
 * segments drawn bottom up, each with its CSS class. The numbers stay in the DOM, so screen readers
 * and tests read exactly what is drawn.
 */
/**
 * The value axis: round steps (1, 2 or 5 times a power of ten), at most four of them, the top one at
 * or above the tallest bar: 0/5/10 for a tallest bar of 9, 0/100/200/300 for 234.
 */
export function valueTicks(tallest) {
  for (let power = 1; ; power *= 10) {
    for (const step of [power, 2 * power, 5 * power]) {
      const count = Math.max(1, Math.ceil(tallest / step))
      if (count <= 4) return Array.from({ length: count }, (_, i) => (i + 1) * step)
    }
  }
}

function barChart({ slots, bars, ticks, label, unit, legend, className = '' }) {
  const [left, top, width, height] = [22, 8, 192, 40]
  const step = width / slots
  const values = valueTicks(Math.max(0, ...bars.map((b) => b.segments.reduce((t, s) => t + s.value, 0))))
  const max = values.at(-1)
  const svg = el('svg', {
    viewBox: '0 0 220 64',
    class: `chart ${className}`.trim(),
    role: 'img',
    'aria-label': label,
    tabindex: 0,
  })
  const y = (v) => top + height - (v / max) * height
  svg.append(el('text', { x: left + 2, y: 5, class: 'axis unit' }, unit))
  for (const v of values) {
    svg.append(
      el('line', { x1: left, y1: y(v), x2: left + width, y2: y(v), class: 'grid' }),
      el('text', { x: left - 3, y: y(v) + 2.5, class: 'axis', 'text-anchor': 'end' }, String(v)),
    )
  }
  svg.append(
    el('text', { x: left - 3, y: top + height + 2.5, class: 'axis', 'text-anchor': 'end' }, '0'),
    el('line', { x1: left, y1: top + height, x2: left + width, y2: top + height, class: 'base' }),
  )
  for (const t of ticks) {
    svg.append(el('text', { x: left + t.at * step, y: 62, class: 'axis', 'text-anchor': t.anchor }, t.text))
  }
  const groups = bars.map((bar) => {
    const group = el('g', { class: 'bar', ...bar.data })
    group.append(el('title', {}, bar.title))
    // An invisible full-height target, so a short bar is as easy to tap as a tall one.
    group.append(el('rect', { x: left + bar.slot * step, y: top, width: step, height, class: 'hit' }))
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
    return group
  })
  // How to read a bar is said once per page (CHART_HINT), not under every chart.
  const hint = bars.length > 0 ? '' : 'No data in this period yet.'
  const readout = document.createElement('p')
  readout.className = 'readout'
  readout.setAttribute('aria-live', 'polite')
  readout.textContent = hint
  const pick = (i) => {
    for (const [j, g] of groups.entries()) g.classList.toggle('selected', j === i)
    readout.textContent = i === undefined ? hint : bars[i].title
    if (i === undefined) chosen.delete(label)
    else chosen.set(label, bars[i].slot)
  }
  for (const [i, g] of groups.entries()) {
    g.addEventListener('pointerenter', () => pick(i))
    g.addEventListener('click', () => pick(i))
  }
  svg.addEventListener('keydown', (event) => {
    if (groups.length === 0 || !['ArrowLeft', 'ArrowRight'].includes(event.key)) return
    event.preventDefault()
    const at = groups.findIndex((g) => g.classList.contains('selected'))
    const next = event.key === 'ArrowRight' ? at + 1 : at < 0 ? groups.length - 1 : at - 1
    pick((next + groups.length) % groups.length)
  })
  const kept = bars.findIndex((b) => b.slot === chosen.get(label))
  if (kept >= 0) pick(kept)
  const figure = document.createElement('figure')
  figure.className = 'chart-box'
  figure.append(svg, legendOf(legend), readout)
  return figure
}

function legendOf(entries) {
  const list = document.createElement('ul')
  list.className = 'legend'
  for (const [cls, text] of entries) {
    const item = document.createElement('li')
    const swatch = document.createElement('span')
    swatch.className = `swatch ${cls}`
    item.append(swatch, text)
    list.append(item)
  }
  return list
}

const usageTitle = (when, v) =>
  `${when}: ${v.requests} requests, ${v.successes} ok, ${v.rateLimited} × 429, ${v.errors ?? 0} errors`

const USAGE_LEGEND = [
  ['ok', 'success'],
  ['limited', '429'],
  ['blocked', 'other error'],
]

const usageSegments = (v) => [
  { value: v.successes, class: 'ok' },
  { value: v.rateLimited, class: 'limited' },
  { value: v.errors ?? 0, class: 'blocked' },
]

/** Requests per hour over the last 24 hours: successes, 429s and other errors stacked. */
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
  return barChart({ slots: 24, bars, ticks, label, unit: 'requests / h', legend: USAGE_LEGEND })
}

/** Local midnight six days ago: where every 7-day chart starts, so they all show the same days. */
export function weekStart() {
  const day = new Date()
  day.setHours(0, 0, 0, 0)
  day.setDate(day.getDate() - 6)
  return day.getTime() / 1000
}

/** Requests per day over the last 7 days (local days), stacked as hourlyChart's. */
export function dailyChart(hourly, label) {
  const start = weekStart()
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
  return barChart({
    slots: 7,
    bars,
    ticks,
    label,
    unit: 'requests / day',
    legend: USAGE_LEGEND,
    className: 'daily',
  })
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
        .map(([m, n]) => `${modelLabel(m)} ${n}`)
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
  return barChart({
    slots: 24,
    bars,
    ticks,
    label,
    unit: 'keys',
    legend: [['back', 'keys whose cooldown ends that hour']],
    className: 'returning',
  })
}

/**
 * Keys by state over the last 24 hours (a bar per hour) or 7 days (a bar per 6 hours), from the
 * cron's samples (one every 10 minutes). Each bar shows the sample in its slot with the fewest usable
 * keys: the worst moment is what an operator needs to see, not an average that hides a dry spell.
 */
export function statesChart(states, range, label) {
  const slotSeconds = range === '7d' ? 6 * 3600 : 3600
  const slots = range === '7d' ? 28 : 24
  const now = Math.floor(Date.now() / 1000)
  // A week is the same seven local days the requests chart shows; a day, the last 24 hours.
  const start = range === '7d' ? weekStart() : now - (now % slotSeconds) + slotSeconds - slots * slotSeconds
  const usable = (s) => s.total - s.cooling - s.blocked
  const worst = new Map()
  for (const s of states) {
    const slot = Math.floor((s.at - start) / slotSeconds)
    if (slot < 0 || slot >= slots) continue
    const seen = worst.get(slot)
    if (!seen || usable(s) < usable(seen)) worst.set(slot, s)
  }
  const when = (t) => (range === '7d' ? `${dayLabel(t)} ${hourLabel(t)}` : hourLabel(t))
  const bars = [...worst].map(([slot, s]) => ({
    slot,
    data: { 'data-at': s.at, 'data-usable': usable(s) },
    title: `${when(s.at)}: ${usable(s)} usable, ${s.cooling} cooling, ${s.blocked} blocked of ${s.total}`,
    segments: [
      { value: usable(s), class: 'ok' },
      { value: s.cooling, class: 'limited' },
      { value: s.blocked, class: 'blocked' },
    ],
  }))
  const ticks =
    range === '7d'
      ? [
          { at: 0, anchor: 'start', text: dayLabel(start) },
          { at: slots, anchor: 'end', text: 'today' },
        ]
      : [
          { at: 0.5, anchor: 'start', text: hourLabel(start) },
          { at: 12.5, anchor: 'middle', text: hourLabel(start + 12 * 3600) },
          { at: 23.5, anchor: 'end', text: hourLabel(start + 23 * 3600) },
        ]
  return barChart({
    slots,
    bars,
    ticks,
    label,
    unit: 'keys',
    legend: [
      ['ok', 'usable'],
      ['limited', 'cooling'],
      ['blocked', 'blocked'],
    ],
    className: 'states',
  })
}

/**
 * A client key's last 7 UTC days (the days its quotas count in), one bar per day: requests, or
 * tokens split into input and output. `days` comes oldest first, as the admin API gives it.
 */
export function clientDaysChart(days, metric, label) {
  const tokens = metric === 'tokens'
  const bars = days.map((d, slot) => ({
    slot,
    data: { 'data-day': d.day, 'data-value': tokens ? d.tokens : d.requests },
    title: tokens
      ? `${d.day}: ${d.tokens} tokens (${d.inputTokens} in, ${d.outputTokens} out, ${d.cachedTokens} cached)`
      : `${d.day}: ${d.requests} requests`,
    segments: tokens
      ? [
          { value: d.inputTokens, class: 'ok' },
          { value: d.outputTokens, class: 'back' },
        ]
      : [{ value: d.requests, class: 'ok' }],
  }))
  const short = (day) => day.slice(5)
  const ticks =
    days.length > 0
      ? [
          { at: 0, anchor: 'start', text: short(days[0].day) },
          { at: days.length, anchor: 'end', text: 'today (UTC)' },
        ]
      : []
  return barChart({
    slots: Math.max(1, days.length),
    bars: bars.filter((b) => b.segments.some((s) => s.value > 0)),
    ticks,
    label,
    unit: tokens ? 'tokens / day' : 'requests / day',
    legend: tokens
      ? [
          ['ok', 'input'],
          ['back', 'output'],
        ]
      : [['ok', 'requests']],
    className: 'daily',
  })
}
