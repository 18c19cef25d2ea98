import { h } from './dom.js'

/** Wide enough to show the panels open: on a phone they fold, so the charts stay on the first screen. */
const WIDE = '(min-width: 700px)'

/** Whether each fold was last left open, by id: the overview redraws every few seconds. */
const opened = new Map()

/**
 * A panel that folds to its one-line summary: open on a wide screen, folded on a phone, and as the
 * reader left it across redraws.
 */
export function fold(id, summary, ...content) {
  const open = opened.get(id) ?? window.matchMedia(WIDE).matches
  const details = h('details', { id, class: 'fold', open }, h('summary', {}, summary), ...content)
  details.addEventListener('toggle', () => opened.set(id, details.open))
  return details
}
