import { api } from './api.js'
import { h } from './dom.js'
import { fold } from './fold.js'

const MARK = { ok: '✓', warning: '!', failing: '✗' }

/**
 * The setup panel: what `pnpm doctor` says, on the overview. Asked once per visit of the overview
 * (it makes one call through the gateway), not on every refresh.
 */
export function setupPanel() {
  const panel = h('section', { class: 'setup', id: 'setup', 'aria-labelledby': 'setup-title' })
  api('/setup').then(
    ({ status, checks }) => {
      const problems = checks.filter((c) => c.status !== 'ok')
      panel.className = `setup ${status}`
      if (problems.length === 0) {
        panel.replaceChildren(
          h('h2', { id: 'setup-title' }, 'Setup'),
          h('p', {}, `All ${checks.length} checks pass: gateway, database, keys, Cron Trigger.`),
        )
        return
      }
      // On a phone it folds to one line, so the charts stay on the first screen.
      panel.replaceChildren(
        fold(
          'setup-fold',
          [
            h('h2', { id: 'setup-title' }, 'Setup needs attention'),
            h(
              'span',
              { class: 'muted' },
              ` ${problems.length} ${problems.length === 1 ? 'check' : 'checks'}`,
            ),
          ],
          h(
            'ul',
            {},
            problems.map((c) =>
              h(
                'li',
                { class: c.status, 'data-check': c.id },
                h('span', { class: 'mark', 'aria-label': c.status }, MARK[c.status]),
                h('strong', {}, c.title),
                ': ',
                c.detail,
                c.fix ? h('p', { class: 'fix' }, c.fix) : null,
              ),
            ),
          ),
        ),
      )
    },
    () => panel.remove(),
  )
  return panel
}
