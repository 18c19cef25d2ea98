import { d1Usage } from '../db/meter'

/** D1 usage of the request path in the isolate that answers (each isolate counts its own). */
export function getMetrics(): Response {
  return Response.json({ scope: 'isolate', d1: d1Usage })
}
