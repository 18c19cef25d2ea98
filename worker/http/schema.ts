/**
 * The one place the Worker imports zod. `zod/mini` is the tree-shakable build of zod 4: the classic
 * API made 440 KB of a 560 KB minified bundle that every cold isolate parses (now 27 KB of 140 KB).
 * Mini ships no messages, so the English ones are loaded here, once.
 */
import { coerce, config, maximum, minimum, number, refine } from 'zod/mini'
import en from 'zod/v4/locales/en.js'

config(en())

// Consumers write `import * as z from '…/schema'` and use members statically, which lets the bundler
// drop every part of zod they do not use (a namespace object passed around as a value would not).
export * from 'zod/mini'

/** A whole number in [min, max], coerced from a string (env vars, query strings). */
export const wholeNumber = (min: number, max: number) =>
  coerce.number().check(refine(Number.isInteger, 'must be a whole number'), minimum(min), maximum(max))

/** The same, as a JSON number (request bodies). */
export const wholeJsonNumber = (min: number) =>
  number().check(refine(Number.isInteger, 'must be a whole number'), minimum(min))
