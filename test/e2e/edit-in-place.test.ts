import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { replies } from '../gateway/replies'
import { AUTH_KEY, startWorker, type Harness } from '../harness'
import { adminHeaders, GEMINI_PATH, googleInit } from '../helpers'
import { answerDialogs, collectConsoleErrors, fillKeyForm, launchChromium, logIn, SHOTS } from './browser'

// The dashboard edits in place (issue 27): a settings form instead of chained prompts, actions on the
// key's own page, a check that says what it found, keys of the wrong shape caught before they are
// added, round chart axes, panels that fold on a phone.
const keys = Array.from(
  { length: 3 },
  (_, i) => `AIzaSyEDIT${String(i).padStart(2, '0')}abcdefghijklmnopqrstuvwxy0`,
)
let h: Harness
let browser: Browser
let page: Page
let ids: number[]
const consoleErrors: string[] = []
let answers: (string | boolean)[] = []

beforeAll(async () => {
  h = await startWorker()
  ids = await h.addKeys('google-ai-studio', keys)
  h.gateway.on(keys[1]!, () => replies.googleInvalidKey())
  for (let i = 0; i < 4; i++) await h.fetch(GEMINI_PATH, googleInit())
  // A request that names no model (a model list) answered 429: a cooldown on no model at all.
  h.gateway.on(keys[2]!, (req) =>
    req.path.endsWith('models') ? replies.googleMinute429() : replies.googleOk(),
  )
  for (let i = 0; i < 3; i++)
    await h.fetch('/api/google-ai-studio/v1beta/models', { headers: { 'x-goog-api-key': AUTH_KEY } })
  browser = await launchChromium()
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  collectConsoleErrors(page, consoleErrors)
  answerDialogs(page, () => answers.shift())
  await logIn(page, h.url, AUTH_KEY)
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await h?.dispose()
})

const toast = () => page.locator('#toast').textContent()

describe("a key's own page has its actions", () => {
  test('Check says what it found, in words: a blocked key stays invalid, and why', async () => {
    await page.goto(`${h.url}/#/key/${ids[1]}`)
    await page.getByRole('toolbar', { name: 'Key actions' }).waitFor()
    await page.getByRole('button', { name: 'Check' }).click()
    await expect.poll(toast).toBe('Still invalid (API_KEY_INVALID, HTTP 400): it stays blocked.')
  })

  test('Unblock, Edit… and Clear cooldowns change the key in place', async () => {
    await page.getByRole('button', { name: 'Unblock' }).click()
    await expect.poll(() => page.locator('.badge').first().textContent()).toBe('active')
    await page.getByRole('button', { name: 'Edit…' }).click()
    await page.getByRole('dialog').waitFor()
    await page.screenshot({ path: `${SHOTS}/edit-key.png` })
    await page.setViewportSize({ width: 390, height: 844 })
    await page.screenshot({ path: `${SHOTS}/edit-key-phone.png` })
    await page.setViewportSize({ width: 1280, height: 900 })
    await fillKeyForm(page, { Remark: 'from the detail page', Group: 'proj-b', Tier: '2', Weight: '5' })
    await expect.poll(() => page.locator('.detail').textContent()).toContain('proj-b · 2 · 5')
    expect(await page.locator('.detail').textContent()).toContain('from the detail page')
    await page.screenshot({ path: `${SHOTS}/key-detail-actions.png`, fullPage: true })

    await page.goto(`${h.url}/#/key/${ids[2]}`)
    // A cooldown on a request that names no model is said in words, not as "(default)".
    await expect
      .poll(() => page.locator('#detail-cooldowns').textContent())
      .toMatch(/^requests without a model: /)
    await page.getByRole('button', { name: 'Clear cooldowns' }).click()
    await expect.poll(() => page.getByText('None running.').count()).toBe(1)
  })

  test('Delete asks first, then returns to the keys of its provider', async () => {
    answers = [true]
    await page.getByRole('button', { name: 'Delete' }).click()
    await page.getByRole('heading', { name: 'google-ai-studio' }).waitFor()
    expect(await page.locator(`tbody tr[data-id="${ids[2]}"]`).count()).toBe(0)
  })
})

describe('the settings form', () => {
  test('in bulk: only the fields filled in change, and a group can be taken away', async () => {
    await page.getByRole('checkbox', { name: 'Select all on this page' }).check()
    await page.locator('#bulk').getByRole('button', { name: 'Edit…' }).click()
    const dialog = page.getByRole('dialog')
    expect(await dialog.getByRole('heading').textContent()).toBe('Edit 2 keys')
    await dialog.getByLabel('Take them out of their group').check()
    await fillKeyForm(page, { Weight: '7' })
    await expect
      .poll(async () => (await page.locator('td.settings').allTextContents()).sort())
      .toEqual(['— · 0 · 7', '— · 2 · 7'])
    // The remark set on one key before was left alone.
    const listed = (await (await h.fetch('/admin/api/keys', { headers: adminHeaders() })).json()) as {
      keys: { remark: string }[]
    }
    expect(listed.keys.map((k) => k.remark).sort()).toEqual(['', 'from the detail page'])
    await page.getByRole('checkbox', { name: 'Select all on this page' }).uncheck()
  })
})

describe('adding keys', () => {
  test('keys that do not look like the provider’s are said, and added only when the operator says so', async () => {
    await page.goto(`${h.url}/#/add/google-ai-studio`)
    await page.getByLabel('Keys', { exact: true }).fill('garbage\nx')
    await page.getByRole('button', { name: 'Add', exact: true }).click()
    await expect
      .poll(() => page.locator('#add-warning-text').textContent())
      .toBe(
        '2 of these do not look like a google-ai-studio key (AIza followed by 35 letters, digits, - or _). A key pasted under the wrong provider, or copied in part, never works.',
      )
    // Nothing was added: the box that says "add them anyway" waits, focused.
    await expect.poll(() => page.evaluate('document.activeElement?.id')).toBe('add-anyway')
    expect(await page.locator('#add-preview').textContent()).toBe(
      '2 new, 0 already stored, 0 duplicates, 0 malformed',
    )
    await page.screenshot({ path: `${SHOTS}/add-keys.png`, fullPage: true })
    await page.setViewportSize({ width: 390, height: 844 })
    await page.screenshot({ path: `${SHOTS}/add-keys-phone.png`, fullPage: true })
    await page.setViewportSize({ width: 1280, height: 900 })
    await page.getByLabel('Add them anyway').check()
    await page.getByRole('button', { name: 'Add', exact: true }).click()
    await page.getByRole('heading', { name: 'google-ai-studio' }).waitFor()
    // Two short keys never read alike: each shows its first and last character.
    await expect.poll(() => page.locator('td.keycell a').allTextContents()).toContain('g…e')
    expect(await page.locator('td.keycell a').allTextContents()).toContain('…')
  })
})

describe('the overview', () => {
  test('value axes in round steps, and the hint said once', async () => {
    await page.goto(`${h.url}/#/`)
    const card = page.locator('.card[data-provider="google-ai-studio"]')
    await card.waitFor()
    // The rule (1, 2 or 5 times a power of ten, at most four steps), and the axis the page drew by it.
    const ticks = (tallest: number) =>
      page.evaluate(`import('/js/chart.js').then((m) => m.valueTicks(${tallest}))`) as Promise<number[]>
    expect(await ticks(9)).toEqual([5, 10])
    expect(await ticks(117)).toEqual([50, 100, 150])
    expect(await ticks(234)).toEqual([100, 200, 300])
    expect(await ticks(0)).toEqual([1])
    const axis = await card.locator('svg.chart').first().locator('text.axis:not(.unit)').allTextContents()
    const drawn = axis
      .filter((t) => /^\d+$/.test(t))
      .map(Number)
      .filter((v) => v > 0)
    const hour = (await card.locator('svg.chart').first().locator('g.bar title').last().textContent()) ?? ''
    expect(drawn.sort((a, b) => a - b)).toEqual(await ticks(Number(/: (\d+) requests/.exec(hour)?.[1])))
    expect(await page.getByText('Point at or tap a bar for its figures.').count()).toBe(1)
  })

  test('on a phone the setup panel and the alerts fold to a line, so the first chart is on the first screen', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } })
    await phone.context().addCookies(await page.context().cookies())
    await phone.goto(`${h.url}/#/`)
    const chart = phone.locator('.card svg.chart').first()
    await chart.waitFor()
    expect(await phone.locator('#setup details').getAttribute('open')).toBeNull()
    expect((await chart.boundingBox())!.y).toBeLessThan(844)
    await phone.screenshot({ path: `${SHOTS}/overview-phone-folded.png` })
    await phone.close()
    expect(consoleErrors).toEqual([])
  })
})
