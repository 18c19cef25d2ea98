/**
 * What every dashboard suite starts with: headless Chromium (Debian's, or CHROMIUM_PATH), the folder
 * screenshots go to, and a page's console errors collected as they happen.
 */
import { mkdirSync } from 'node:fs'
import { chromium, type Browser, type Page } from 'playwright-core'
import { ROOT } from '../build'

export const SHOTS = `${ROOT}test-results`

export function launchChromium(): Promise<Browser> {
  mkdirSync(SHOTS, { recursive: true })
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
}

/** Collects the page's console errors into `into`, each as its text and the URL it came from. */
export function collectConsoleErrors(page: Page, into: string[]): void {
  page.on('console', (m) => {
    if (m.type() === 'error') into.push(`${m.text()} ${m.location().url}`)
  })
}

/**
 * Answers the page's prompt() and confirm() with `next()`: a string is typed, `false` cancels, anything
 * else accepts. With `alerts`, alert() messages go there instead (dismissed).
 */
export function answerDialogs(page: Page, next: () => string | boolean | undefined, alerts?: string[]): void {
  page.on('dialog', async (dialog) => {
    if (alerts && dialog.type() === 'alert') {
      alerts.push(dialog.message())
      return dialog.dismiss()
    }
    const answer = next()
    if (answer === false) return dialog.dismiss()
    return dialog.accept(typeof answer === 'string' ? answer : undefined)
  })
}

/** Opens a key row's "More" menu and chooses `item` (Block, Unblock, Clear cooldowns, Edit…, Delete). */
export async function rowMenu(row: ReturnType<Page['locator']>, item: string): Promise<void> {
  await row.locator('details.menu > summary').click()
  await row.getByRole('menuitem', { name: item, exact: true }).click()
}

/**
 * Fills the key settings form (the dialog Edit… opens) with `fields` by label, then saves. The form
 * stays open when something is refused: the caller reads the dialog's messages.
 */
export async function fillKeyForm(page: Page, fields: Record<string, string>): Promise<void> {
  const dialog = page.getByRole('dialog')
  await dialog.waitFor()
  for (const [label, value] of Object.entries(fields))
    await dialog.getByLabel(label, { exact: true }).fill(value)
  await dialog.getByRole('button', { name: 'Save' }).click()
}

/** Opens the dashboard at `url` and logs in with `authKey`, waiting for the overview. */
export async function logIn(page: Page, url: string, authKey: string): Promise<void> {
  await page.goto(url)
  await page.getByLabel('AUTH_KEY').fill(authKey)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.getByRole('heading', { name: 'Overview' }).waitFor()
}

/**
 * A logged-in dashboard at 1280 px: Chromium, a page collecting its console errors into
 * `consoleErrors`, confirm() answered yes.
 */
export async function openDashboard(
  url: string,
  authKey: string,
  consoleErrors: string[],
): Promise<{ browser: Browser; page: Page }> {
  const browser = await launchChromium()
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  collectConsoleErrors(page, consoleErrors)
  answerDialogs(page, () => true)
  await logIn(page, url, authKey)
  return { browser, page }
}
