import { readFileSync } from 'node:fs'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { replies } from '../gateway/replies'
import { AUTH_KEY, startWorker, type Harness } from '../harness'
import { GEMINI_PATH, googleInit } from '../helpers'
import { answerDialogs, collectConsoleErrors, fillKeyForm, launchChromium, rowMenu, SHOTS } from './browser'

// The dashboard in real headless Chromium (Debian's), against the Worker with the stand-in gateway.
const keys = Array.from(
  { length: 4 },
  (_, i) => `AIzaSyE2E${String(i).padStart(2, '0')}abcdefghijklmnopqrstuvwxyz01`,
)
const XSS = '<img src=x onerror=alert(1)>'

let h: Harness
let browser: Browser
let page: Page
const alerts: string[] = []
/** Answers for the next prompt() / confirm() the page opens. */
let answers: (string | boolean)[] = []

beforeAll(async () => {
  h = await startWorker()
  browser = await launchChromium()
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true })
  page = await context.newPage()
  collectConsoleErrors(page, consoleErrors)
  answerDialogs(page, () => answers.shift(), alerts)
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await h?.dispose()
})

const rows = () => page.locator('tbody tr')
/** Console errors of every page this suite visits (overview, keys, add keys, export, logout). */
const consoleErrors: string[] = []

describe('the dashboard', () => {
  test('logs in only with the right AUTH_KEY, into an HttpOnly, SameSite=Strict session', async () => {
    await page.goto(h.url)
    await page.getByLabel('AUTH_KEY').fill('wrong')
    await page.getByRole('button', { name: 'Log in' }).click()
    await expect.poll(() => page.locator('#login-error').textContent()).toContain('not accepted')
    await page.getByLabel('AUTH_KEY').fill(AUTH_KEY)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByRole('heading', { name: 'Overview' }).waitFor()
    const [cookie] = await page.context().cookies()
    expect(cookie).toMatchObject({ name: 'kr_session', httpOnly: true, sameSite: 'Strict' })
    expect(cookie?.value).not.toContain(AUTH_KEY)
  })

  test('the overview shows the setup check: what needs attention and how to fix it', async () => {
    const panel = page.locator('#setup')
    await expect.poll(() => panel.locator('h2').textContent()).toBe('Setup needs attention')
    // A fresh deployment: no keys yet, and the Cron Trigger has not run.
    expect(await panel.locator('li[data-check="keys"]').textContent()).toContain('No provider keys yet')
    expect(await panel.locator('li[data-check="cron"] .fix').textContent()).toContain('crons')
    expect(await panel.locator('li[data-check="gateway"]').count()).toBe(0)
  })

  test('adds pasted keys, suggesting the provider from their shape and previewing first', async () => {
    await page.getByRole('link', { name: 'Add keys' }).first().click()
    await page.getByLabel('Keys', { exact: true }).fill(`${keys.join('\n')}\n${keys[0]}, ключ`)
    await expect.poll(() => page.locator('#add-hint').textContent()).toContain('google-ai-studio')
    expect(await page.getByLabel('Provider').inputValue()).toBe('google-ai-studio')
    await page.getByRole('button', { name: 'Preview' }).click()
    await expect
      .poll(() => page.locator('#add-preview').textContent())
      .toBe('4 new, 0 already stored, 1 duplicates, 1 malformed')
    await page.getByLabel('Keys', { exact: true }).fill(`${keys.join('\n')}\n${keys[0]}`)
    await page.getByRole('button', { name: 'Add', exact: true }).click()
    await page.getByRole('heading', { name: 'google-ai-studio' }).waitFor()
    await expect.poll(() => rows().count()).toBe(4)
    // Masked, never whole.
    expect(await page.locator('tbody').textContent()).not.toContain(keys[0])
  })

  test('searches and filters', async () => {
    await page.getByLabel('Search').fill('…xyz01'.slice(-4))
    await expect.poll(() => rows().count()).toBe(4)
    await page.getByLabel('Search').fill('no-such-fragment')
    await expect.poll(() => page.locator('.page-info').textContent()).toBe('No keys match.')
    await page.getByLabel('Search').fill('')
    await expect.poll(() => rows().count()).toBe(4)
  })

  test('shows a cooldown that proxy traffic caused, after a refresh', async () => {
    h.gateway.on(keys[1]!, () => replies.googleMinute429())
    for (let i = 0; i < 4; i++) expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
    await page.getByLabel('Status').selectOption('cooling')
    await expect.poll(() => rows().count()).toBe(1)
    const cooling = rows().first()
    expect(await cooling.textContent()).toContain('gemini-2.5-flash:')
    expect(await cooling.locator('.badge').textContent()).toBe('cooling')
    await page.getByLabel('Status').selectOption('')
    await expect.poll(() => rows().count()).toBe(4)
  })

  test('renders a hostile remark as text', async () => {
    const first = rows().first()
    await rowMenu(first, 'Edit…')
    await fillKeyForm(page, { Remark: XSS })
    await expect.poll(() => first.locator('.remark').textContent()).toBe(XSS)
    expect(await page.locator('tbody img').count()).toBe(0)
    expect(alerts).toEqual([])
  })

  test('blocks and unblocks selected keys, and deletes', async () => {
    const target = rows().nth(2)
    await target.getByRole('checkbox').check()
    await page.locator('#bulk').getByRole('button', { name: 'Block', exact: true }).click()
    await expect.poll(() => target.locator('.badge').textContent()).toBe('blocked')
    await page.screenshot({ path: `${SHOTS}/keys-table.png`, fullPage: true })
    await page.locator('#bulk').getByRole('button', { name: 'Unblock', exact: true }).click()
    await expect.poll(() => target.locator('.badge').textContent()).toBe('active')

    const doomed = rows().last()
    const id = await doomed.getAttribute('data-id')
    answers = [true]
    await rowMenu(doomed, 'Delete')
    await expect.poll(() => rows().count()).toBe(3)
    expect(await page.locator(`tbody tr[data-id="${id}"]`).count()).toBe(0)
  })

  test('exports the selection, full keys only when asked', async () => {
    await page.getByRole('checkbox', { name: 'Select all on this page' }).check()
    // Two plain choices, not an OK/Cancel riddle.
    await page.locator('#bulk').getByRole('button', { name: 'Export text' }).click()
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('dialog').getByRole('button', { name: 'Export full keys' }).click(),
    ])
    const text = readFileSync((await download.path()) as string, 'utf8')
      .trim()
      .split('\n')
    expect(text).toHaveLength(3)
    for (const line of text) expect(keys).toContain(line)
    await page.locator('#bulk').getByRole('button', { name: 'Export CSV' }).click()
    const [masked] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('dialog').getByRole('button', { name: 'Export masked' }).click(),
    ])
    const csv = readFileSync((await masked.path()) as string, 'utf8')
    expect(csv.split('\n')[0]).toBe('id,provider,key,state,remark,blocked_reason')
    for (const k of keys) expect(csv).not.toContain(k)
  })

  test('deletes all blocked keys after a confirmation', async () => {
    await page.locator('#bulk').getByRole('button', { name: 'Block', exact: true }).click()
    await page.getByRole('checkbox', { name: 'Select all on this page' }).uncheck()
    await expect.poll(() => page.locator('tbody .badge.blocked').count()).toBe(3)
    answers = [false]
    await page.getByRole('button', { name: 'Delete all blocked' }).click()
    expect(await rows().count()).toBe(3)
    answers = [true]
    await page.getByRole('button', { name: 'Delete all blocked' }).click()
    await expect.poll(() => page.locator('.page-info').textContent()).toBe('No keys match.')
  })

  test('the overview shows a card per provider, and fits a phone', async () => {
    await h.addKeys('openai', ['sk-proj-e2e-000000000001', 'sk-proj-e2e-000000000002'])
    await h.addKeys('google-ai-studio', [keys[0]!])
    await page.getByRole('link', { name: 'Overview' }).click()
    const card = page.locator('.card[data-provider="openai"]')
    await card.waitFor()
    expect(await card.textContent()).toContain('2 active')
    await page.screenshot({ path: `${SHOTS}/overview.png`, fullPage: true })
    await page.setViewportSize({ width: 390, height: 844 })
    await page.screenshot({ path: `${SHOTS}/overview-phone.png`, fullPage: true })
    // Evaluated in the page: a string, as this file is compiled without the DOM's types.
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth')
    expect(overflow).toBeLessThanOrEqual(0)
    await page.setViewportSize({ width: 1280, height: 900 })
  })

  test('logs out', async () => {
    await page.getByRole('button', { name: 'Log out' }).click()
    await page.getByLabel('AUTH_KEY').waitFor()
    await page.reload()
    await page.getByLabel('AUTH_KEY').waitFor()
    // The one error the browser logs in this whole suite is the 401 that the wrong AUTH_KEY earned
    // in the first test (the answer a wrong password should get); no page logs anything else.
    expect(consoleErrors).toEqual([expect.stringMatching(/status of 401 .*\/admin\/api\/session$/)])
  })
})
