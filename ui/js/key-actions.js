import { api, checkAll } from './api.js'
import { h, toast } from './dom.js'

/**
 * What can be done to keys, by id: each returns once the change is stored. `ctx.progress` is the
 * check progress bar; `ctx.provider` scopes exports.
 */
export function keyActions(ctx) {
  const patch = (ids, body) => api('/keys', { method: 'PATCH', body: { ids, ...body } })
  return {
    check: async (ids) => {
      const bar = ctx.progress
      bar.hidden = false
      bar.value = 0
      const results = await checkAll({ ids }, (done, total) => {
        bar.max = total
        bar.value = done
      })
      bar.hidden = true
      const changed = results.filter((r) => r.change)
      toast(
        `Checked ${results.length}: ${results.filter((r) => r.result === 'valid').length} valid, ${changed.length} changed.`,
      )
    },
    block: (ids) => patch(ids, { status: 'blocked' }),
    unblock: (ids) => patch(ids, { status: 'active' }),
    clearCooldowns: (ids) => patch(ids, { clearCooldowns: true }),
    editRemark: async (ids, current = '') => {
      const remark = prompt('Remark', current)
      if (remark !== null) await patch(ids, { remark })
    },
    /** Resolves true when the keys were deleted. */
    remove: async (ids) => {
      if (!confirm(`Delete ${ids.length} key(s)? This cannot be undone.`)) return false
      await api('/keys', { method: 'DELETE', body: { ids } })
      return true
    },
    export: async (ids, format) => {
      const full = confirm('Export full keys? Cancel exports them masked.')
      const text = await api('/keys/export', {
        method: 'POST',
        body: { ids, provider: ctx.provider, format, full },
      })
      download(text, format)
    },
  }
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
