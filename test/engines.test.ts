import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { ROOT } from './build'

// The Node version package.json declares runs every dependency: a newcomer on that version gets no
// EBADENGINE warning, and CI (on the machines' Node 20) runs what the README promises.
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string }
  dependencies: Record<string, string>
  devDependencies: Record<string, string>
}

type Version = [number, number, number]
const parse = (v: string): Version => {
  const [a = 0, b = 0, c = 0] = v
    .replace(/^[^\d]*/, '')
    .split('.')
    .map((n) => Number.parseInt(n, 10) || 0)
  return [a, b, c]
}
const cmp = (a: Version, b: Version) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]

/** Whether `v` satisfies a node engines range of the forms these packages use: `>=x`, `^x`, `<x`, joined by `||`. */
function satisfies(v: Version, range: string): boolean {
  return range.split('||').some((alternative) =>
    alternative
      .trim()
      .split(/\s+/)
      .every((part) => {
        if (part.startsWith('>=')) return cmp(v, parse(part)) >= 0
        if (part.startsWith('^')) {
          const min = parse(part)
          return cmp(v, min) >= 0 && v[0] === min[0]
        }
        if (part.startsWith('<')) return cmp(v, parse(part)) < 0
        throw new Error(`an engines range this test does not read: ${range}`)
      }),
  )
}

test('every dependency runs on the declared minimum Node, and so does this machine', () => {
  const minimum = parse(pkg.engines.node)
  const refused: string[] = []
  for (const name of Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })) {
    const dep = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
      version: string
      engines?: { node?: string }
    }
    const range = dep.engines?.node
    if (range && !satisfies(minimum, range)) refused.push(`${name}@${dep.version} wants node ${range}`)
  }
  expect(refused).toEqual([])
  expect(satisfies(parse(process.version), pkg.engines.node)).toBe(true)
})
