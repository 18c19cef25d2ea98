import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Counts } from '../../worker/db/counts'
import { replies } from '../gateway/replies'
import { AUTH_KEY, startWorker, type Harness } from '../harness'
import { googleInit } from '../helpers'
import { collectConsoleErrors, launchChromium, SHOTS } from './browser'

// Issue 14: pool health per model and the cooldown-expiry timeline, from real proxy traffic.
const keys = Array.from(
  { length: 4 },
  (_, i) => `AIzaSyPOOL${String(i).padStart(2, '0')}abcdefghijklmnopqrstuvwxyz0`,
)
const path = (model: string) => `/api/google-ai-studio/v1beta/models/${model}:generateContent`
const auth = { authorization: `Bearer ${AUTH_KEY}` }

interface Card {
  provider: string
  hourly: ({ hour: number } & Counts)[]
  health: { model: string; usable: number; total: number }[]
  returning: { hour: number; keys: number; models: Record<string, number> }[]
}

let h: Harness
let ids: number[] = []
let browser: Browser
let page: Page
const consoleErrors: string[] = []

beforeAll(async () => {
  h = await startWorker()
  ids = await h.addKeys('google-ai-studio', keys)
  // Key 0 is out of its daily quota for every model, key 1 is invalid, keys 2 and 3 serve
  // gemini-2.5-flash but are out of their daily quota for gemini-2.5-pro.
  h.gateway.on(keys[0]!, () => replies.googleDaily429())
  h.gateway.on(keys[1]!, () => replies.googleInvalidKey())
  for (const k of keys.slice(2)) {
    h.gateway.on(k, (req) =>
      req.path.includes('gemini-2.5-pro') ? replies.googleDaily429() : replies.googleOk(),
    )
  }
  for (let i = 0; i < 4; i++) await h.fetch(path('gemini-2.5-flash'), googleInit())
  for (let i = 0; i < 2; i++) await h.fetch(path('gemini-2.5-pro'), googleInit())
  await seedHistory()
  // The Cron Trigger's sample of now: 4 keys, 3 cooling (0 for every model, 2 and 3 for pro), 1 blocked.
  await h.cron()
  browser = await launchChromium()
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  collectConsoleErrors(page, consoleErrors)
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await h?.dispose()
})

const now = Math.floor(Date.now() / 1000)
const hourStart = now - (now % 3600)
const threeDaysAgo = hourStart - 3 * 86_400
/** The hour, five hours ago, that holds two samples: its bar shows the worse one. */
const twoSampleHour = hourStart - 5 * 3600

/**
 * What earlier cron runs and flushes would have left: a sample in each of the last 23 hours (a
 * storm 2 to 7 hours ago) and 5 requests three days ago.
 */
async function seedHistory(): Promise<void> {
  const samples: [number, string][] = []
  for (let k = 1; k <= 23; k++) {
    const cooling = k >= 2 && k <= 7 ? 2 : 0
    samples.push([hourStart - k * 3600 + 600, JSON.stringify({ 'google-ai-studio': [4, cooling, 0] })])
  }
  samples.push([twoSampleHour + 1800, JSON.stringify({ 'google-ai-studio': [4, 3, 1] })])
  await h.d1.batch([
    ...samples.map(([at, counts]) =>
      h.d1.prepare('INSERT INTO pool_samples (at, counts) VALUES (?1, ?2)').bind(at, counts),
    ),
    h.d1
      .prepare('INSERT INTO usage_batches (hour, entries) VALUES (?1, ?2)')
      .bind(
        threeDaysAgo,
        JSON.stringify([
          [ids[3], 'google-ai-studio', 'gemini-2.5-flash', 5, 4, 1, 0, threeDaysAgo + 60, null],
        ]),
      ),
  ])
}

async function googleCard(): Promise<Card | undefined> {
  const res = await h.fetch('/admin/api/overview', { headers: auth })
  const body = (await res.json()) as { providers: Card[] }
  return body.providers.find((p) => p.provider === 'google-ai-studio')
}

describe('pool health on the overview', () => {
  test('per model with traffic: keys usable now, and none for a model whose keys are all cooling', async () => {
    // Usage (which models have traffic) reaches D1 within STATS_FLUSH_SECONDS.
    await expect
      .poll(async () => (await googleCard())?.health, { timeout: 15_000 })
      .toEqual([
        { model: 'gemini-2.5-flash', usable: 2, total: 4 },
        { model: 'gemini-2.5-pro', usable: 0, total: 4 },
      ])
  })

  test('the keys coming back: one hour (midnight Pacific), each key counted once, by model', async () => {
    const card = await googleCard()
    const detail = (await (await h.fetch(`/admin/api/keys/${ids[0]}`, { headers: auth })).json()) as {
      key: { cooldowns: Record<string, { until: number; reason: string | null }> }
    }
    // Each cooldown says why it was set: Google's daily quota, for both models.
    expect(detail.key.cooldowns['gemini-2.5-flash']!.reason).toBe('daily_quota')
    expect(detail.key.cooldowns['gemini-2.5-pro']!.reason).toBe('daily_quota')
    const until = detail.key.cooldowns['gemini-2.5-flash']!.until
    expect(card?.returning).toEqual([
      // Key 0 has two cooldowns ending then but returns once; keys 2 and 3 return for pro. The
      // blocked key 1 never comes back by itself and is not counted.
      { hour: until - (until % 3600), keys: 3, models: { 'gemini-2.5-flash': 1, 'gemini-2.5-pro': 3 } },
    ])
  })

  test('the dashboard shows both, with a warning for the model without a usable key, at both widths', async () => {
    await page.goto(h.url)
    await page.getByLabel('AUTH_KEY').fill(AUTH_KEY)
    await page.getByRole('button', { name: 'Log in' }).click()
    const card = page.locator('.card[data-provider="google-ai-studio"]')
    await card.waitFor()
    const flash = card.locator('.health li[data-model="gemini-2.5-flash"]')
    const pro = card.locator('.health li[data-model="gemini-2.5-pro"]')
    expect(await flash.locator('.share').textContent()).toBe('2 of 4')
    expect(await flash.locator('meter').getAttribute('value')).toBe('2')
    expect(await pro.getAttribute('class')).toBe('none')
    expect(await pro.locator('.share').textContent()).toBe('no usable key')
    const bar = card.locator('svg.returning g.bar')
    expect(await bar.count()).toBe(1)
    expect(await bar.getAttribute('data-keys')).toBe('3')
    expect(await bar.locator('title').textContent()).toMatch(
      /^\d\d:\d\d( [AP]M)?: 3 keys return \(gemini-2\.5-flash 1, gemini-2\.5-pro 3\)$/,
    )
    // The setup check names the model too, even though most keys of the provider still serve.
    const setup = await page.locator('.setup').textContent()
    expect(setup).toContain('google-ai-studio: 3 of 4 usable now')
    expect(setup).toContain('No usable key for google-ai-studio gemini-2.5-pro')
    // The hourly chart says the figures the API counted from the traffic above.
    const hour = (await googleCard())!.hourly.at(-1)!
    expect(await card.locator('svg.chart').first().locator('g.bar title').last().textContent()).toMatch(
      new RegExp(
        `: ${hour.requests} requests, ${hour.successes} ok, ${hour.rateLimited} × 429, ${hour.errors} errors$`,
      ),
    )
    await page.screenshot({ path: `${SHOTS}/overview-health.png`, fullPage: true })
    await page.setViewportSize({ width: 390, height: 844 })
    expect(await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth')).toBe(0)
    await page.screenshot({ path: `${SHOTS}/overview-health-phone.png`, fullPage: true })
    await page.setViewportSize({ width: 1280, height: 900 })
    // A key's detail: its usage per hour (24 h) and per day (7 days), with the API's figures.
    const detail = (await (await h.fetch(`/admin/api/keys/${ids[2]}`, { headers: auth })).json()) as {
      hourly: Counts[]
    }
    const week = detail.hourly.reduce((t, x) => t + x.requests, 0)
    expect(week).toBeGreaterThan(0)
    await page.goto(`${h.url}/#/key/${ids[2]}`)
    const daily = page.locator('svg.chart.daily')
    await daily.waitFor()
    expect(await daily.locator('g.bar').count()).toBe(1)
    expect(await daily.locator('g.bar title').textContent()).toMatch(new RegExp(`: ${week} requests, `))
    // No CSP violation or failed request behind the scenes.
    expect(consoleErrors).toEqual([])
  })
})

describe('history on the overview', () => {
  test('key states per hour (the worst sample of each), read by tapping a bar, kept across a redraw', async () => {
    await page.goto(h.url)
    const card = page.locator('.card[data-provider="google-ai-studio"]')
    const states = card.locator('svg.states')
    await states.waitFor()
    // 23 seeded hours and the cron's sample of this hour.
    expect(await states.locator('g.bar').count()).toBe(24)
    const last = states.locator('g.bar').last()
    expect(await last.getAttribute('data-usable')).toBe('0')
    expect(await last.locator('title').textContent()).toMatch(/: 0 usable, 3 cooling, 1 blocked of 4$/)
    // Two samples five hours ago (2 cooling, then 3 cooling and 1 blocked): the bar shows the worse.
    const five = states.locator(`g.bar[data-at="${twoSampleHour + 1800}"]`)
    expect(await five.getAttribute('data-usable')).toBe('0')
    // Tapping a bar says its figures under the chart; the page stays where it is.
    const readout = card.locator('.chart-box:has(svg.states) .readout')
    // How to read the charts is said once on the page, not under each chart.
    expect(await page.getByText('Point at or tap a bar for its figures.').count()).toBe(1)
    expect(await readout.textContent()).toBe('')
    const earliest = states.locator('g.bar').first()
    await earliest.click()
    expect(await readout.textContent()).toBe(await earliest.locator('title').textContent())
    expect(await readout.textContent()).toMatch(/: 4 usable, 0 cooling, 0 blocked of 4$/)
    expect(new URL(page.url()).hash).toBe('')
    // The arrow keys move along the bars.
    await states.focus()
    await page.keyboard.press('ArrowRight')
    expect(await readout.textContent()).toBe(
      await states.locator('g.bar').nth(1).locator('title').textContent(),
    )
    // A redraw (the page re-reads every few seconds, or the period changes back) keeps the reading.
    const reading = await readout.textContent()
    await page.getByRole('link', { name: 'Last 7 days' }).click()
    await card.locator('svg.daily').waitFor()
    await page.getByRole('link', { name: 'Last 24 h' }).click()
    await card.locator('svg.daily').waitFor({ state: 'detached' })
    expect(await card.locator('.chart-box:has(svg.states) .readout').textContent()).toBe(reading)
  })

  test('7 days: requests per day and key states per 6 hours, with the week’s figures, at both widths', async () => {
    await page.goto(`${h.url}/#/overview/7d`)
    await page.locator('.range a[aria-current="true"]', { hasText: 'Last 7 days' }).waitFor()
    const card = page.locator('.card[data-provider="google-ai-studio"]')
    const daily = card.locator('svg.daily')
    await daily.waitFor()
    const week = (await (await h.fetch('/admin/api/overview?range=7d', { headers: auth })).json()) as {
      providers: (Card & { usage: Counts })[]
    }
    const google = week.providers.find((p) => p.provider === 'google-ai-studio')!
    // The seeded 5 requests three days ago and today's traffic: two days with bars, the week's total.
    expect(await daily.locator('g.bar').count()).toBe(2)
    expect(await daily.locator('g.bar title').first().textContent()).toMatch(
      /: 5 requests, 4 ok, 1 × 429, 0 errors$/,
    )
    expect(await card.locator('.figures dd').first().textContent()).toBe(String(google.usage.requests))
    expect(google.usage.requests).toBe(
      5 + google.hourly.filter((x) => x.hour > threeDaysAgo).reduce((t, x) => t + x.requests, 0),
    )
    // 24 samples a day apart at most fall into 6-hour slots: the last 24 hours span 4 or 5 of them.
    const bars = await card.locator('svg.states g.bar').count()
    expect(bars).toBeGreaterThanOrEqual(4)
    expect(bars).toBeLessThanOrEqual(5)
    await page.screenshot({ path: `${SHOTS}/overview-week.png`, fullPage: true })
    // On a touch phone (same session), a tap on a bar reads it rather than leaving the page.
    const phone = await browser.newContext({
      storageState: await page.context().storageState(),
      viewport: { width: 390, height: 844 },
      hasTouch: true,
      isMobile: true,
    })
    const mobile = await phone.newPage()
    collectConsoleErrors(mobile, consoleErrors)
    await mobile.goto(`${h.url}/#/overview/7d`)
    const small = mobile.locator('.card[data-provider="google-ai-studio"]')
    await small.locator('svg.daily').waitFor()
    expect(await mobile.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth')).toBe(0)
    await small.locator('svg.daily g.bar').first().tap()
    expect(await small.locator('.chart-box:has(svg.daily) .readout').textContent()).toMatch(/: 5 requests, /)
    expect(new URL(mobile.url()).hash).toBe('#/overview/7d')
    await mobile.screenshot({ path: `${SHOTS}/overview-week-phone.png`, fullPage: true })
    await phone.close()
    expect(consoleErrors).toEqual([])
  })
})
