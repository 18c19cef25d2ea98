import { AppError } from './errors'

/** Refuses a method the route does not take: 405 with an `Allow` header, as RFC 9110 asks. */
export function requireMethod(method: string, allowed: readonly string[]): void {
  if (allowed.includes(method)) return
  throw new AppError(405, 'method_not_allowed', `This route takes ${allowed.join(', ')}`, {
    allow: allowed.join(', '),
  })
}
