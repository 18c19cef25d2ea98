import { buildWorker, REPO_BUNDLE, ROOT } from './build'

/** Bundles the Worker once per test run; every test file starts its own workerd with the bundle. */
export default async function setup(): Promise<void> {
  await buildWorker()
  await buildWorker(REPO_BUNDLE, `${ROOT}test/repo-worker.ts`)
}
