import { api, checkAll } from './api.js'
import { h, showDialog, toast } from './dom.js'
import { editKeys } from './key-form.js'

/**
 * What can be done to keys, by id: each returns once the change is stored. `ctx.progress` is the
 * check progress bar; `ctx.provider` scopes exports ('' for every provider).
 */
export function keyActions(ctx) {
  const patch = (ids, body) => api('/keys', { method: 'PATCH', body: { ids, ...body } })
  return {
    check: async (ids) => {
      const bar = ctx.progress
      if (bar) {
        bar.hidden = false
        bar.value = 0
      }
      try {
        const results = await checkAll({ ids }, (done, total) => {
          if (!bar) return
          bar.max = total
          bar.value = done
        })
        toast(describeCheck(results), results.some((r) => r.result === 'invalid') ? 'error' : 'info')
      } finally {
        if (bar) bar.hidden = true
      }
    },
    block: (ids) => patch(ids, { status: 'blocked' }),
    unblock: (ids) => patch(ids, { status: 'active' }),
    clearCooldowns: (ids) => patch(ids, { clearCooldowns: true }),
    /** Remark, group, tier and weight in one form (key-form.js). Resolves true once saved. */
    edit: (ids, current = {}) => editKeys(ids, current, (body) => patch(ids, body)),
    /** Resolves true when the keys were deleted. */
    remove: async (ids) => {
      if (ids.length === 0 || !confirm(`Delete ${ids.length} key(s)? This cannot be undone.`)) return false
      await api('/keys', { method: 'DELETE', body: { ids } })
      return true
    },
    export: async (ids, format) => {
      const full = await chooseExport()
      if (full === undefined) return
      const body = {
        format,
        full,
        ...(ids.length ? { ids } : {}),
        ...(ctx.provider ? { provider: ctx.provider } : {}),
      }
      download(await api('/keys/export', { method: 'POST', body }), format)
    },
  }
}

const RESULTS = {
  valid: 'valid',
  invalid: 'invalid',
  cooling: 'rate-limited',
  inconclusive: 'could not tell',
  unsupported: 'cannot be checked',
}

/**
 * What a check found, in words. One key: its verdict and why ("Still invalid: API_KEY_INVALID (HTTP
 * 400)"). Many: how many of each, and what changed.
 */
export function describeCheck(results) {
  if (results.length === 1) {
    const [r] = results
    const why = [r.reason, r.status ? `HTTP ${r.status}` : ''].filter(Boolean).join(', ')
    const because = why ? ` (${why})` : ''
    if (r.result === 'valid')
      return r.change === 'restored'
        ? 'Valid: the key works again and was unblocked.'
        : 'Valid: the key works.'
    if (r.result === 'invalid')
      return r.change === 'blocked'
        ? `Invalid${because}: the key was blocked.`
        : `Still invalid${because}: it stays blocked.`
    if (r.result === 'cooling')
      return `Rate-limited${because}: it cools for every model until its limit resets.`
    if (r.result === 'unsupported')
      return 'This provider has no way to check a key without spending quota; nothing changed.'
    return `Could not tell${because}: the check got no answer about the key. Nothing changed.`
  }
  const counts = new Map()
  for (const r of results) counts.set(r.result, (counts.get(r.result) ?? 0) + 1)
  const found = [...counts].map(([result, n]) => `${n} ${RESULTS[result] ?? result}`).join(', ')
  const changes = ['blocked', 'restored', 'cooling']
    .map((c) => [c, results.filter((r) => r.change === c).length])
    .filter(([, n]) => n > 0)
    .map(([c, n]) => `${n} ${c === 'cooling' ? 'now cooling' : c}`)
  return `Checked ${results.length}: ${found}. ${changes.length ? `Changed: ${changes.join(', ')}.` : 'Nothing changed.'}`
}

/** Two plain choices instead of an OK/Cancel riddle: masked (the default) or full keys. */
function chooseExport() {
  return new Promise((resolve) => {
    const dialog = h(
      'dialog',
      { class: 'choice', 'aria-labelledby': 'export-title' },
      h('h2', { id: 'export-title' }, 'Export keys'),
      h('p', {}, 'Masked keys are safe to share. Full keys are secrets: keep the file private.'),
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'button', onclick: () => close(false) }, 'Export masked'),
        h('button', { type: 'button', class: 'danger', onclick: () => close(true) }, 'Export full keys'),
        h('button', { type: 'button', class: 'secondary', onclick: () => close(undefined) }, 'Cancel'),
      ),
    )
    const close = showDialog(dialog, resolve, undefined)
  })
}

function download(text, format) {
  const link = h('a', {
    href: URL.createObjectURL(new Blob([text], { type: format === 'csv' ? 'text/csv' : 'text/plain' })),
    download: `keyrelay-keys.${format}`,
    hidden: true,
  })
  document.body.append(link)
  link.click()
  link.remove()
  // Revoked only once the browser has started the download.
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000)
}
