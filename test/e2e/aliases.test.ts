import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { AUTH_KEY, startWorker, type Harness } from '../harness'
import { openDashboard, SHOTS } from './browser'

// Model aliases made, changed and deleted in the dashboard (issue 26).
let h: Harness
let browser: Browser
let page: Page
const consoleErrors: string[] = []

beforeAll(async () => {
  h = await startWorker()
  ;({ browser, page } = await openDashboard(h.url, AUTH_KEY, consoleErrors))
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await h?.dispose()
})

const row = (name: string) => page.locator(`table.aliases tr[data-name="${name}"]`)
const listed = async () =>
  (
    (await (
      await h.fetch('/admin/api/routes', { headers: { authorization: `Bearer ${AUTH_KEY}` } })
    ).json()) as {
      routes: { name: string; targets: string[] }[]
    }
  ).routes

test('an alias is made in a form, refused with the reason when a target is wrong, changed and deleted', async () => {
  await page.getByRole('link', { name: 'Aliases' }).click()
  await page.getByText('No aliases yet.').waitFor()
  await page.getByRole('button', { name: 'New alias…' }).click()
  const form = page.getByRole('dialog')
  await form.getByLabel('Alias').fill('best')
  await form.getByLabel(/^Targets/).fill('google-ai-studio/gemini-2.5-pro\ngemini-2.5-flash')
  await form.getByRole('button', { name: 'Create alias' }).click()
  await expect.poll(() => form.getByRole('alert').textContent()).toContain('<provider>/<model>')
  await form.getByLabel(/^Targets/).fill('google-ai-studio/gemini-2.5-pro\ngroq/llama-3.3-70b-versatile')
  await form.getByRole('button', { name: 'Create alias' }).click()
  await expect
    .poll(() => row('best').locator('li').allTextContents())
    .toEqual(['google-ai-studio/gemini-2.5-pro', 'groq/llama-3.3-70b-versatile'])
  await page.screenshot({ path: `${SHOTS}/aliases.png`, fullPage: true })
  await page.setViewportSize({ width: 390, height: 844 })
  await page.screenshot({ path: `${SHOTS}/aliases-phone.png`, fullPage: true })
  await page.setViewportSize({ width: 1280, height: 900 })

  await row('best').getByRole('button', { name: 'Edit…' }).click()
  await page
    .getByRole('dialog')
    .getByLabel(/^Targets/)
    .fill('groq/llama-3.3-70b-versatile\ngoogle-ai-studio/gemini-2.5-pro')
  await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click()
  await expect
    .poll(() => row('best').locator('li').first().textContent())
    .toBe('groq/llama-3.3-70b-versatile')
  expect((await listed())[0]?.targets[0]).toBe('groq/llama-3.3-70b-versatile')

  await row('best').getByRole('button', { name: 'Delete' }).click()
  await page.getByText('No aliases yet.').waitFor()
  expect(await listed()).toEqual([])
  // The one refusal asked for above (Chromium logs every non-2xx fetch), nothing else.
  expect(consoleErrors).toEqual([expect.stringMatching(/status of 400 .*\/admin\/api\/routes$/)])
})
