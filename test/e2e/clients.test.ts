import { readFileSync } from 'node:fs'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { AUTH_KEY, startWorker, type Harness } from '../harness'
import { errorCode, GEMINI_PATH, googleInit, googleKey } from '../helpers'
import { openDashboard, SHOTS } from './browser'

// The Clients page (issue 25): an operator issues a key, sees it once, hands it out, watches its
// usage against its quotas, edits, disables and deletes it, all in the dashboard.
let h: Harness
let browser: Browser
let page: Page
const consoleErrors: string[] = []
let key = ''

beforeAll(async () => {
  h = await startWorker()
  await h.addKeys('google-ai-studio', [googleKey(1)])
  // Another client, so the page shows more than one row and a key without quotas.
  await h.issueClient({ name: 'batch jobs', allow: 'groq' })
  ;({ browser, page } = await openDashboard(h.url, AUTH_KEY, consoleErrors))
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await h?.dispose()
})

const row = (name: string) => page.locator('table.clients tbody tr', { hasText: name })
const asClient = () => h.fetch(GEMINI_PATH, googleInit({ 'x-goog-api-key': key }))

describe('the Clients page', () => {
  test('a new key is made in a form, refused with the reason when wrong, and shown once', async () => {
    await page.getByRole('link', { name: 'Clients' }).click()
    await page.getByRole('heading', { name: 'Client keys' }).waitFor()
    await page.getByRole('button', { name: 'New client key…' }).click()
    const form = page.getByRole('dialog')
    await form.getByLabel('Name', { exact: true }).fill('Ada’s notebook')
    // The Worker's own refusal is shown in the form, which stays open.
    await form.getByLabel('Allowed models').fill('gemini,gemini-2.5-flash')
    await form.getByLabel('Requests per day').fill('2')
    await page.screenshot({ path: `${SHOTS}/client-form.png` })
    await form.getByRole('button', { name: 'Create key' }).click()
    await expect
      .poll(() => form.getByRole('alert').filter({ hasText: 'Allowed models' }).textContent())
      .toContain('unknown provider(s): gemini')
    // A field the form can check itself says so before anything is sent.
    await form.getByLabel('Tokens per day').fill('lots')
    await form.getByRole('button', { name: 'Create key' }).click()
    await expect
      .poll(() => form.locator('#client-tokensPerDay-error').textContent())
      .toContain('whole number')
    await form.getByLabel('Tokens per day').fill('')
    await form.getByLabel('Allowed models').fill('google-ai-studio,gemini-2.5-flash')
    await form.getByRole('button', { name: 'Create key' }).click()

    const shown = page.getByRole('dialog', { name: 'Key for “Ada’s notebook”' })
    await shown.waitFor()
    key = await shown.getByRole('textbox').inputValue()
    h.gateway.forbidden.push(key)
    expect(key).toMatch(/^krc_[\w-]{43}$/)
    await page.screenshot({ path: `${SHOTS}/client-new-key.png` })
    await shown.getByRole('button', { name: 'Done' }).click()
    // Listed masked: its name and the last four characters, never the key.
    await expect.poll(() => row('Ada’s notebook').count()).toBe(1)
    expect(await row('Ada’s notebook').textContent()).toContain(`krc_…${key.slice(-4)}`)
    expect(await page.content()).not.toContain(key)
  })

  test('the key works for what it allows, and its usage shows against its quota', async () => {
    expect((await asClient()).status).toBe(200)
    expect((await asClient()).status).toBe(200)
    const over = await asClient()
    expect(over.status).toBe(429)
    expect(await errorCode(over)).toBe('quota_requests_per_day')
    // The listing reads the flushed usage (STATS_FLUSH_SECONDS in the suite: 5 s).
    await expect
      .poll(
        async () => {
          await page.reload()
          return row('Ada’s notebook').locator('.quota-list').textContent()
        },
        { timeout: 20_000, interval: 1_000 },
      )
      .toBe(' 2 of 2 requests today')
    expect(await row('Ada’s notebook').locator('li.spent').count()).toBe(1)
    expect(await row('batch jobs').textContent()).toContain('no quotas')
    await page.screenshot({ path: `${SHOTS}/clients.png`, fullPage: true })
    await page.setViewportSize({ width: 390, height: 844 })
    await page.screenshot({ path: `${SHOTS}/clients-phone.png`, fullPage: true })
    await page.setViewportSize({ width: 1280, height: 900 })
  })

  test('usage exports as CSV from the page, and the overview shows the tokens served', async () => {
    const download = page.waitForEvent('download')
    await page.getByRole('link', { name: 'per client key' }).click()
    const file = await (await download).path()
    const csv = readFileSync(file, 'utf8').split('\r\n')
    expect(csv[0]).toBe('day,clientId,client,requests,inputTokens,outputTokens,cachedTokens,tokens')
    // Two answers of the stand-in's Google usage: 4 tokens in and 4 out each.
    expect(csv.some((l) => /,Ada’s notebook,2,8,8,0,16$/.test(l))).toBe(true)
    await page.getByRole('link', { name: 'Overview' }).click()
    const tokens = page.locator('[data-provider="google-ai-studio"] dt:has-text("Tokens") + dd')
    await expect.poll(() => tokens.textContent(), { timeout: 15_000 }).toBe('8 · 8')
    await page.getByRole('link', { name: 'Clients' }).click()
    await page.getByRole('heading', { name: 'Client keys' }).waitFor()
  })

  test('Edit… changes a quota in place and the key serves again', async () => {
    await row('Ada’s notebook').getByRole('button', { name: 'Edit…' }).click()
    const form = page.getByRole('dialog')
    expect(await form.getByLabel('Requests per day').inputValue()).toBe('2')
    expect(await form.getByLabel('Allowed models').inputValue()).toBe('google-ai-studio,gemini-2.5-flash')
    await form.getByLabel('Requests per day').fill('50')
    await form.getByRole('button', { name: 'Save' }).click()
    await expect
      .poll(() => row('Ada’s notebook').locator('.quota-list').textContent())
      .toBe(' 2 of 50 requests today')
    expect((await asClient()).status).toBe(200)
  })

  test('its own page shows its settings and last 7 days; Disable stops it at once', async () => {
    await row('Ada’s notebook').getByRole('link', { name: 'Ada’s notebook' }).click()
    await page.getByRole('toolbar', { name: 'Client key actions' }).waitFor()
    expect(await page.locator('.figures.detail').textContent()).toContain(
      'google-ai-studio: gemini-2.5-flash',
    )
    // Today's bar carries the flushed count (3 requests; the refused one made no upstream call).
    await expect
      .poll(
        async () => {
          await page.reload()
          await page.getByRole('toolbar', { name: 'Client key actions' }).waitFor()
          return page
            .getByRole('img', { name: 'Ada’s notebook: requests per day over the last 7 days' })
            .locator('g.bar')
            .last()
            .getAttribute('data-value')
        },
        { timeout: 20_000, interval: 1_000 },
      )
      .toBe('3')
    await page.screenshot({ path: `${SHOTS}/client-detail.png`, fullPage: true })
    await page.setViewportSize({ width: 390, height: 844 })
    await page.screenshot({ path: `${SHOTS}/client-detail-phone.png`, fullPage: true })
    await page.setViewportSize({ width: 1280, height: 900 })

    await page.getByRole('button', { name: 'Disable' }).click()
    await expect.poll(() => page.locator('.title-row .badge').textContent()).toBe('disabled')
    const refused = await asClient()
    expect(refused.status).toBe(401)
    expect(await errorCode(refused)).toBe('client_key_disabled')
    await page.getByRole('button', { name: 'Enable' }).click()
    await expect.poll(() => page.locator('.title-row .badge').textContent()).toBe('active')
    expect((await asClient()).status).toBe(200)
  })

  test('Delete asks first, returns to the list, and the key stops working', async () => {
    await page.getByRole('button', { name: 'Delete' }).click()
    await page.getByRole('heading', { name: 'Client keys' }).waitFor()
    await expect.poll(() => row('Ada’s notebook').count()).toBe(0)
    expect((await asClient()).status).toBe(401)
    // The one refusal the first test asked for (Chromium logs every non-2xx fetch), nothing else.
    expect(consoleErrors).toEqual([expect.stringMatching(/status of 400 .*\/admin\/api\/clients$/)])
  })
})
