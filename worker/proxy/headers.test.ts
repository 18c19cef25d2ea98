import { expect, test } from 'vitest'
import { downstreamHeaders, upstreamHeaders } from './headers'

test('headers named in Connection are hop-by-hop, both ways; credentials and account headers never go up', () => {
  const incoming = new Headers({
    connection: 'keep-alive, X-Hop',
    'x-hop': '1',
    'x-kept': '2',
    authorization: 'Bearer secret',
    'openai-organization': 'org-other',
  })
  const up = upstreamHeaders(incoming, new Set())
  expect([...up.keys()]).toEqual(['x-kept'])

  const answer = new Headers({
    connection: 'x-trace',
    'x-trace': 'a',
    'x-request-id': 'r',
    'set-cookie': 'c=1',
  })
  expect([...downstreamHeaders(answer).keys()]).toEqual(['x-request-id'])
})
