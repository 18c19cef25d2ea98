import { authenticateAdmin } from '../auth/client-auth'
import { loadConfig, type Config, type Env } from '../config'

/** Every admin call starts here: an unrestricted, unexpired AUTH_KEY as a Bearer token. */
export async function requireAdmin(request: Request, env: Env): Promise<Config> {
  const config = loadConfig(env)
  await authenticateAdmin(config.authKeys, request.headers, Date.now() / 1000)
  return config
}
