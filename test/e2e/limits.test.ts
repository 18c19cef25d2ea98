import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { AUTH_KEY, startWorker, type Harness } from '../harness'
import { GEMINI_PATH, googleInit, googleKey } from '../helpers'
import { collectConsoleErrors, launchChromium, logIn, SHOTS } from './browser'

// The overview says what the Google keys have left today, and the operator sets the real figures.
let h: Harness
let browser: Browser
let page: Page
const consoleErrors: string[] = []

beforeAll(async () => {
  h = await startWorker({ vars: { STATS_FLUSH_SECONDS: '1' } })
  await h.addKeys('google-ai-studio', [googleKey(1), googleKey(2)])
  for (let i = 0; i < 3; i++) expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
  await new Promise((r) => setTimeout(r, 2500))
  browser = await launchChromium()
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  collectConsoleErrors(page, consoleErrors)
  await logIn(page, h.url, AUTH_KEY)
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await h?.dispose()
})

const flash = () => page.locator('.quota-left li[data-model="gemini-2.5-flash"] .share')

test('requests left today per model, across projects, and figures set from the dashboard', async () => {
  // Two keys without a group: two projects of 250 a day, 3 requests spent.
  await expect.poll(() => flash().textContent()).toBe('497 of 500')
  expect(await page.locator('.quota-left').textContent()).toContain('Across 2 projects; resets in')
  await page.screenshot({ path: `${SHOTS}/overview-quota.png`, fullPage: true })
  await page.setViewportSize({ width: 390, height: 844 })
  await page.screenshot({ path: `${SHOTS}/overview-quota-phone.png`, fullPage: true })
  await page.setViewportSize({ width: 1280, height: 900 })

  await page.getByRole('button', { name: 'Set your limits…' }).click()
  const dialog = page.getByRole('dialog')
  await dialog.getByLabel('Model').fill('gemini-2.5-flash')
  await dialog.getByLabel('Requests per day').fill('20')
  await dialog.getByRole('button', { name: 'Save' }).click()
  await expect.poll(() => flash().textContent()).toBe('37 of 40')

  await page.getByRole('button', { name: 'Set your limits…' }).click()
  await page.getByRole('dialog').getByLabel('Model').fill('gemini-2.5-flash')
  await page.getByRole('dialog').getByRole('button', { name: 'Use the published figures' }).click()
  await expect.poll(() => flash().textContent()).toBe('497 of 500')
  expect(consoleErrors).toEqual([])
})
