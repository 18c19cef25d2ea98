/**
 * `pnpm demo`: keyrelay working with no Cloudflare account and no network. The Worker runs locally
 * (workerd, in-memory D1) with GATEWAY_URL pointing at a stand-in gateway, the very one the test
 * suite uses, loaded with demo keys: two healthy, one hitting a per-minute quota, one a daily quota,
 * one invalid. Every upstream call is printed, so you can watch keys cool down and get blocked while
 * your requests keep succeeding.
 */
import { buildWorker, ROOT } from '../test/build'
import { MockGateway } from '../test/gateway/mock-gateway'
import { replies } from '../test/gateway/replies'
import { startWorker } from '../test/harness'

const AUTH_KEY = 'demo-auth-key-not-a-secret'
const port = Number(process.argv.find((a) => a.startsWith('--port='))?.slice(7) ?? 8787)

const KEYS = {
  'google-ai-studio': {
    'demo-google-healthy-1': 'answers normally',
    'demo-google-healthy-2': 'answers normally',
    'demo-google-minute-quota': '429, per-minute quota: cools ~58 s for that model',
    'demo-google-daily-quota': '429, daily quota: cools until midnight Pacific for that model',
    'demo-google-invalid': '400 API_KEY_INVALID: gets blocked',
  },
  openai: {
    'demo-openai-healthy': 'answers normally',
    'demo-openai-no-credit': '429 insufficient_quota: cools 6 h for every model',
  },
} as const

async function main(): Promise<void> {
  // Its own bundle file: a demo started during a test run must not rewrite the tests' bundle.
  const scriptPath = `${ROOT}.test-build/demo-worker.js`
  await buildWorker(scriptPath)
  const gateway = new MockGateway(
    'http://demo-gateway.invalid/v1/demo-account/demo-gateway',
    '[demo upstream] ',
  )
  gateway
    .on('demo-google-minute-quota', () => replies.googleMinute429())
    .on('demo-google-daily-quota', () => replies.googleDaily429())
    .on('demo-google-invalid', () => replies.googleInvalidKey())
    .on('demo-openai-no-credit', () => replies.openaiInsufficientQuota())
  const handle = gateway.handle
  const traced = async (request: Request) => {
    const res = await handle(request)
    const seen = gateway.requests.at(-1)
    // The setup check's keyless model list (every cron run) is refused by design: not worth a line.
    if (seen?.key)
      console.log(`  [demo gateway] ${seen.provider}/${seen.path} with key ${seen.key} → ${res.status}`)
    return res
  }
  Object.defineProperty(gateway, 'handle', { value: traced })

  const worker = await startWorker({ authKey: AUTH_KEY, gateway, port, scriptPath })
  for (const [provider, keys] of Object.entries(KEYS)) await worker.addKeys(provider, Object.keys(keys))
  // The Cron Trigger, every minute here (every 10 when deployed), so the dashboard's key-state chart
  // and setup check have something to show within the demo's first minutes.
  await worker.cron()
  const cronTimer = setInterval(() => void worker.cron().catch(() => undefined), 60_000)

  const base = worker.url
  console.log(`
keyrelay demo: the Worker runs locally at ${base}. Its "AI Gateway" is a stand-in that
answers like the real providers; nothing here talks to Cloudflare or to any provider.

AUTH_KEY: ${AUTH_KEY}
Dashboard: ${base}/ (log in with the AUTH_KEY above)
Demo keys:
${Object.entries(KEYS)
  .flatMap(([provider, keys]) =>
    Object.entries(keys).map(([k, what]) => `  ${provider.padEnd(17)} ${k.padEnd(26)} ${what}`),
  )
  .join('\n')}

Try (run each a few times and watch the gateway lines below):

  curl -s ${base}/api/google-ai-studio/v1beta/models/gemini-2.5-flash:generateContent \\
    -H 'x-goog-api-key: ${AUTH_KEY}' -H 'content-type: application/json' \\
    -d '{"contents":[{"parts":[{"text":"Hello"}]}]}'

  curl -sN "${base}/api/google-ai-studio/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse" \\
    -H 'x-goog-api-key: ${AUTH_KEY}' -H 'content-type: application/json' \\
    -d '{"contents":[{"parts":[{"text":"Hello"}]}]}'

  curl -s ${base}/api/compat/chat/completions -H 'authorization: Bearer ${AUTH_KEY}' \\
    -H 'content-type: application/json' \\
    -d '{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}'

  curl -s ${base}/api/compat/responses -H 'authorization: Bearer ${AUTH_KEY}' \\
    -H 'content-type: application/json' -d '{"model":"google-ai-studio/gemini-2.5-flash","input":"Hello"}'

  curl -s ${base}/api/compat/v1/messages -H 'x-api-key: ${AUTH_KEY}' \\
    -H 'content-type: application/json' \\
    -d '{"model":"google-ai-studio/gemini-2.5-flash","max_tokens":100,"messages":[{"role":"user","content":"Hello"}]}'

  (cd '${ROOT}' && node --input-type=module -e "import OpenAI from 'openai'; \\
    const c = new OpenAI({ apiKey: '${AUTH_KEY}', baseURL: '${base}/api/compat' }); \\
    const r = await c.responses.create({ model: 'google-ai-studio/gemini-2.5-flash', input: 'Hello' }); \\
    console.log(r.output_text)")

  curl -s ${base}/admin/api/keys -H 'authorization: Bearer ${AUTH_KEY}'    # key states and cooldowns

The Cron Trigger runs every minute here (every 10 minutes when deployed): it samples key states for
the dashboard and re-checks blocked keys (the gateway lines for demo-google-invalid).

Ctrl-C stops the demo (its D1 is in memory: nothing is kept).
`)
  const stop = async () => {
    clearInterval(cronTimer)
    await worker.dispose()
    process.exit(0)
  }
  // Miniflare's own exit hook ends the process with 130 on Ctrl-C, which pnpm reports as a failed
  // command. Stopping is ours to do: dispose (which ends workerd), then exit cleanly.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.removeAllListeners(signal)
    process.on(signal, () => void stop())
  }
}

main().catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
