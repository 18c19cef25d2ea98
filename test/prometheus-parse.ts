import { spawnSync } from 'node:child_process'

/** One sample as Prometheus's Python client parsed it, with the family it belongs to. */
export interface ParsedSample {
  family: string
  type: string
  name: string
  labels: Record<string, string>
  value: number
}

/** Prometheus's own parser (its Python client's, installed by scripts/ensure-test-tools.ts). */
const PARSE = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    for s in f.samples:
        out.append({"family": f.name, "type": f.type, "name": s.name, "labels": s.labels, "value": s.value})
print(json.dumps(out))
`

/** Parses the text exposition format; throws with the parser's own error when the text is invalid. */
export function parsePrometheus(text: string): ParsedSample[] {
  const run = spawnSync('/usr/bin/python3', ['-c', PARSE], { input: text, encoding: 'utf8' })
  if (run.status !== 0) throw new Error(`Prometheus's parser refused the text: ${run.stderr.slice(-500)}`)
  return JSON.parse(run.stdout) as ParsedSample[]
}
