// Deep freezing of checked values (configs, API arguments): after validation nothing may change them, so
// what was checked is what runs. Writing to a frozen value throws in strict mode (every ES module).

/** Freezes `value` and every object and array inside it; returns it. Typed arrays are left as they are
 * (their elements cannot be frozen). */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value) || ArrayBuffer.isView(value)) return value;
  for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<string | symbol, unknown>)[key]);
  return Object.freeze(value);
}
