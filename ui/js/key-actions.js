import { api, checkAll } from './api.js'
import { h, toast } from './dom.js'

/**
 * What can be done to keys, by id: each returns once the change is stored. `ctx.progress` is the
 * check progress bar; `ctx.provider` scopes exports ('' for every provider).
 */
export function keyActions(ctx) {
  const patch = (ids, body) => api('/keys', { method: 'PATCH', body: { ids, ...body } })
  return {
    check: async (ids) => {
      const bar = ctx.progress
      bar.hidden = false
      bar.value = 0
      try {
        const results = await checkAll({ ids }, (done, total) => {
          bar.max = total
          bar.value = done
        })
        const changed = results.filter((r) => r.change)
        toast(
          `Checked ${results.length}: ${results.filter((r) => r.result === 'valid').length} valid, ${changed.length} changed.`,
        )
      } finally {
        bar.hidden = true
      }
    },
    block: (ids) => patch(ids, { status: 'blocked' }),
    unblock: (ids) => patch(ids, { status: 'active' }),
    clearCooldowns: (ids) => patch(ids, { clearCooldowns: true }),
    editRemark: async (ids, current = '') => {
      const remark = prompt('Remark', current)
      if (remark !== null) await patch(ids, { remark })
    },
    /** Group (keys sharing one quota), tier (0 first) and weight (share among peers). */
    editSettings: async (ids, current = {}) => {
      const group = prompt(
        'Group (keys that share one quota, e.g. a Google Cloud project; empty for none)',
        current.group ?? '',
      )
      if (group === null) return
      const tier = prompt(
        'Tier: 0 is used first, 1 only when no tier-0 key can serve, …',
        String(current.tier ?? 0),
      )
      if (tier === null) return
      const weight = prompt(
        'Weight: share of traffic among the keys of its tier',
        String(current.weight ?? 1),
      )
      if (weight === null) return
      await patch(ids, { group: group.trim() || null, tier: Number(tier), weight: Number(weight) })
    },
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
    const close = (answer) => {
      dialog.close()
      dialog.remove()
      resolve(answer)
    }
    dialog.addEventListener('cancel', () => close(undefined))
    document.body.append(dialog)
    dialog.showModal()
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
