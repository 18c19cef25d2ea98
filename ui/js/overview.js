import { api } from './api.js'
import { CHART_HINT, dailyChart, hourlyChart, returningChart, statesChart } from './chart.js'
import { ago, compact, h, modelLabel, percent } from './dom.js'
import { fold } from './fold.js'
import { quotaLeftSection } from './limits.js'

/** Providers whose adapter knows a free-tier table (worker/providers/google-limits.ts). */
const FREE_TIER = ['google-ai-studio']

const RANGES = [
  ['24h', 'Last 24 h', '#/'],
  ['7d', 'Last 7 days', '#/overview/7d'],
]

/**
 * One card per provider: key states now, traffic and key states over the chosen range (24 h or 7
 * days), usable keys per model, keys coming back; the setup panel above. A card is a section with a
 * linked title (not one big link), so tapping a chart reads it instead of leaving the page.
 */
export async function renderOverview(view, setup, range = '24h') {
  const data = await api(`/overview?range=${range}`)
  // Providers with a free tier to count against: what their keys have left today.
  const left = new Map()
  for (const p of data.providers.filter((x) => FREE_TIER.includes(x.provider)))
    left.set(p.provider, await api(`/limits?provider=${encodeURIComponent(p.provider)}&projects=none`))
  const redraw = () => renderOverview(view, setup, range)
  const week = range === '7d'
  const span = week ? '7 days' : '24 h'
  const cards = data.providers.map((p) => {
    const done = p.usage.requests
    return h(
      'section',
      { class: 'card', 'data-provider': p.provider, 'aria-labelledby': `card-${p.provider}` },
      h(
        'h2',
        { id: `card-${p.provider}` },
        h(
          'a',
          { href: `#/keys/${encodeURIComponent(p.provider)}`, title: `${p.provider}: its keys` },
          p.provider,
        ),
      ),
      h(
        'p',
        { class: 'counts' },
        h('span', { class: 'badge active' }, `${p.keys.active} active`),
        h('span', { class: 'badge cooling' }, `${p.keys.cooling} cooling`),
        h('span', { class: 'badge blocked' }, `${p.keys.blocked} blocked`),
      ),
      h(
        'dl',
        { class: 'figures' },
        h('dt', {}, `Requests, ${span}`),
        h('dd', {}, String(done)),
        h('dt', {}, 'Success'),
        h('dd', {}, percent(p.usage.successes, done)),
        h('dt', {}, '429s'),
        h('dd', {}, String(p.usage.rateLimited)),
        h('dt', {}, 'Tokens in · out'),
        h('dd', {}, `${compact(p.usage.inputTokens ?? 0)} · ${compact(p.usage.outputTokens ?? 0)}`),
      ),
      week
        ? [
            h('h3', {}, 'Requests per day, last 7 days'),
            dailyChart(p.hourly, `${p.provider}: requests per day over the last 7 days`),
          ]
        : [
            h('h3', {}, 'Requests per hour, last 24 h'),
            hourlyChart(p.hourly, `${p.provider}: requests per hour over the last 24 hours`),
          ],
      h('h3', {}, `Keys by state, last ${span}`),
      p.states.length > 0
        ? statesChart(
            p.states,
            range,
            `${p.provider}: usable, cooling and blocked keys over the last ${week ? '7 days' : '24 hours'}`,
          )
        : h('p', { class: 'muted' }, 'The Cron Trigger samples key states every 10 minutes; no sample yet.'),
      poolHealth(p.health, p.healthMore),
      left.has(p.provider) ? quotaLeftSection(p.provider, left.get(p.provider), redraw) : null,
      p.returning.length > 0
        ? [
            h('h3', {}, 'Keys coming back, next 24 h'),
            returningChart(
              p.returning,
              `${p.provider}: keys coming back from cooldown over the next 24 hours`,
            ),
          ]
        : null,
    )
  })
  view.replaceChildren(
    h(
      'div',
      { class: 'title-row' },
      h('h1', {}, 'Overview'),
      h(
        'div',
        { class: 'title-actions' },
        h(
          'nav',
          { class: 'range', 'aria-label': 'Period shown' },
          RANGES.map(([id, text, href]) =>
            h(
              'a',
              { href, class: 'button secondary', 'aria-current': id === range ? 'true' : undefined },
              text,
            ),
          ),
        ),
        h('a', { class: 'button', href: '#/add' }, 'Add keys'),
      ),
    ),
    setup,
    (await recentAlerts()) ?? '',
    ...(cards.length > 0
      ? [h('p', { class: 'muted hint' }, CHART_HINT), h('div', { class: 'cards' }, cards)]
      : [h('p', { class: 'empty' }, 'No keys yet. ', h('a', { href: '#/add' }, 'Add your first keys'), '.')]),
  )
}

/**
 * Per model with traffic: the share of keys usable right now, and a warning when none is, since every
 * request for that model fails until one comes back.
 */
function poolHealth(health, more) {
  if (health.length === 0) return null
  return h(
    'section',
    { class: 'health' },
    h('h3', {}, 'Usable now, by model'),
    h(
      'ul',
      {},
      health.map((m) => {
        const none = m.usable === 0
        return h(
          'li',
          { class: none ? 'none' : '', 'data-model': m.model },
          h('span', { class: 'model' }, modelLabel(m.model)),
          // A native meter: the CSP allows no inline style, and it is announced by screen readers.
          h('meter', {
            min: 0,
            max: Math.max(1, m.total),
            value: m.usable,
            'aria-label': `${modelLabel(m.model)}: ${m.usable} of ${m.total} keys usable`,
          }),
          h('span', { class: 'share' }, none ? 'no usable key' : `${m.usable} of ${m.total}`),
        )
      }),
    ),
    more > 0 ? h('p', { class: 'muted' }, `and ${more} less used model${more === 1 ? '' : 's'}`) : null,
  )
}

/** The last alerts (blocked and restored keys, providers with no usable key), newest first. */
async function recentAlerts() {
  const { alerts } = await api('/alerts')
  if (alerts.length === 0) return null
  return h(
    'section',
    { class: 'alerts', id: 'alerts', 'aria-labelledby': 'alerts-title' },
    fold(
      'alerts-fold',
      [h('h2', { id: 'alerts-title' }, 'Recent alerts'), h('span', { class: 'muted' }, ` ${alerts.length}`)],
      h(
        'ul',
        {},
        alerts
          .slice(0, 8)
          .map((a) =>
            h(
              'li',
              { 'data-kind': a.kind },
              h('span', { class: 'muted' }, ago(a.at)),
              ' ',
              ALERT_TEXT[a.kind]?.(a) ?? a.kind,
            ),
          ),
      ),
    ),
  )
}

const ALERT_TEXT = {
  key_blocked: (a) => `${a.provider} key ${a.maskedKey ?? ''} blocked: ${a.reason ?? 'unknown reason'}`,
  key_restored: (a) => `${a.provider} key ${a.maskedKey ?? ''} works again and was restored`,
  no_usable_key: (a) =>
    `${a.provider} had no usable key for ${a.model ? modelLabel(a.model) : 'a model'} (${a.reason ?? ''})`,
}
