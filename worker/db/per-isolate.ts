/**
 * One instance per D1 binding, which in practice means one per isolate: the caches the request path
 * keeps (pool views, usage counters, the admin view) live exactly as long as the isolate does.
 */
export function perIsolate<T>(): (d1: D1Database, make: () => T) => T {
  const instances = new WeakMap<D1Database, T>()
  return (d1, make) => {
    let instance = instances.get(d1)
    if (instance === undefined) {
      instance = make()
      instances.set(d1, instance)
    }
    return instance
  }
}
