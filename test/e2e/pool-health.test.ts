import { mkdirSync } from 'node:fs'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { ROOT } from '../build'
import { replies } from '../gateway/replies'
import { AUTH_KEY, startWorker, type Harness } from '../harness'
import { googleInit } from '../helpers'

// Issue 14: pool health per model and the cooldown-expiry timeline, from real proxy traffic.
const SHOTS = `${ROOT}test-results`
const keys = Array.from(
  { length: 4 },
  (_, i) => `AIzaSyPOOL${String(i).padStart(2, '0')}abcdefghijklmnopqrstuvwxyz0`,
)
const path = (model: string) => `/api/google-ai-studio/v1beta/models/${model}:generateContent`
const auth = { authorization: `Bearer ${AUTH_KEY}` }

interface Counts {
  requests: number
  successes: number
  rateLimited: number
  errors: number
}
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
  mkdirSync(SHOTS, { recursive: true })
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
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
  })
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text())
  })
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await h?.dispose()
})

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
