/**
 * A request's URL, parsed once. Parsing costs microseconds, and the entry, the route, the caller's
 * credential and the target all want it: the first parse is kept for the rest of the request.
 */
const parsed = new WeakMap<Request, URL>()

export function urlOf(request: Request): URL {
  let url = parsed.get(request)
  if (!url) {
    url = new URL(request.url)
    parsed.set(request, url)
  }
  return url
}
