import { buildWorker } from './build'

/** Bundles the Worker once per test run; every test file starts its own workerd with the bundle. */
export default async function setup(): Promise<void> {
  await buildWorker()
}
