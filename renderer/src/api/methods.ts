// Builds a DinoscopeApi from one generic `call`, method by method from `apiMethods`: a method added to
// the contract appears here without further code.
import { apiMethods, type ApiMethod, type DinoscopeApi } from '../../../core/common/api.js';

export type Caller = (method: ApiMethod, args: unknown[]) => Promise<unknown>;

export function apiFromCaller(call: Caller): DinoscopeApi {
  const api: Partial<Record<ApiMethod, (...args: unknown[]) => Promise<unknown>>> = {};
  for (const method of Object.keys(apiMethods) as ApiMethod[]) {
    api[method] = (...args: unknown[]) => call(method, args);
  }
  return api as unknown as DinoscopeApi;
}
