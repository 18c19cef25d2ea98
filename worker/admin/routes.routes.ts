import type { IRequest } from 'itty-router'
import { aliasBookFor } from '../aliases/book'
import { splitModelId } from '../compat/compat-body'
import { loadConfig, type Env } from '../config'
import { deleteRoute, liveRoutes, putRoute, routeExists, type RouteRow } from '../db/routes.repo'
import { AppError } from '../http/errors'
import * as z from '../http/schema'
import { adminBody } from './body'

/** An alias is a model name without a provider: no `/`, nothing a provider's own name could clash with. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/
const Targets = z
  .array(z.string().check(z.minLength(3), z.maxLength(240)))
  .check(z.minLength(1), z.maxLength(8))
const CreateBody = z.strictObject({ name: z.string(), targets: Targets })
const PatchBody = z.strictObject({ targets: Targets })

/** `POST /admin/api/routes` `{name, targets}`: a model alias and the targets it tries, in order. */
export async function createRoute(request: Request, env: Env): Promise<Response> {
  const body = await adminBody(request, env, CreateBody)
  const name = checkedName(body.name)
  const targets = checkedTargets(body.targets)
  if (await routeExists(env.DB, name)) {
    throw new AppError(409, 'route_exists', `The alias ${name} exists; PATCH it to change its targets`)
  }
  const row = await putRoute(env.DB, name, targets, Math.floor(Date.now() / 1000))
  changed(env)
  return Response.json({ route: present(row) }, { status: 201 })
}

export async function listRoutes(_request: Request, env: Env): Promise<Response> {
  return Response.json({ routes: (await liveRoutes(env.DB)).map(present) })
}

/** `PATCH /admin/api/routes/:name` `{targets}`. */
export async function patchRoute(request: IRequest, env: Env): Promise<Response> {
  const name = checkedName(decodeURIComponent(String(request.params.name)))
  const body = await adminBody(request, env, PatchBody)
  const targets = checkedTargets(body.targets)
  if (!(await routeExists(env.DB, name))) throw notFound(name)
  const row = await putRoute(env.DB, name, targets, Math.floor(Date.now() / 1000))
  changed(env)
  return Response.json({ route: present(row) })
}

export async function removeRoute(request: IRequest, env: Env): Promise<Response> {
  const name = checkedName(decodeURIComponent(String(request.params.name)))
  if (!(await deleteRoute(env.DB, name, Math.floor(Date.now() / 1000)))) throw notFound(name)
  changed(env)
  return Response.json({ deleted: name })
}

/** This isolate sees a change at once; the others within POOL_REFRESH_SECONDS. */
function changed(env: Env): void {
  aliasBookFor(env.DB, loadConfig(env).poolRefreshMs).invalidate()
}

const notFound = (name: string) => new AppError(404, 'route_not_found', `No alias named ${name}`)

function checkedName(name: string): string {
  if (!NAME.test(name)) {
    throw new AppError(
      400,
      'invalid_route_name',
      'An alias is 1 to 64 letters, digits or . _ : - (no /: names with a provider are real models)',
    )
  }
  return name
}

/** Each target a real `<provider>/<model>`, as a compat request would name it; no alias of an alias. */
function checkedTargets(targets: string[]): string[] {
  for (const t of targets) {
    try {
      splitModelId(t)
    } catch {
      throw new AppError(
        400,
        'invalid_target',
        `Each target is <provider>/<model> of a known provider: ${t.slice(0, 80)}`,
      )
    }
  }
  if (new Set(targets).size !== targets.length)
    throw new AppError(400, 'invalid_target', 'A target is named twice')
  return targets
}

const present = (row: RouteRow) => ({
  name: row.name,
  targets: JSON.parse(row.targets) as string[],
  updatedAt: row.updatedAt,
})
