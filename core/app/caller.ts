// The client (browser) a call or an asset request is served for, carried through the async work it starts
// (AsyncLocalStorage), so the analyses reach it without a client argument on every method of the contract.
// Transports that know the caller (the serve host) run the call inside asClient; everything else (Electron,
// the CLI, background work) sees DEFAULT_CLIENT.
import { AsyncLocalStorage } from 'node:async_hooks';
import { CLIENT_HEADER, DEFAULT_CLIENT, isClientId } from '../common/client-id.js';
import { DinoscopeError } from '../common/errors.js';

const caller = new AsyncLocalStorage<string>();

/** Runs fn as client `client`: currentClient() inside it, and in everything it awaits, answers `client`. */
export function asClient<T>(client: string, fn: () => T): T {
  return caller.run(client, fn);
}

/** The client of the call being served, else DEFAULT_CLIENT. */
export function currentClient(): string {
  return caller.getStore() ?? DEFAULT_CLIENT;
}

/** A client id as sent (header or URL parameter): DEFAULT_CLIENT when absent, BAD_INPUT when malformed. */
export function clientFrom(sent: string | string[] | null | undefined): string {
  if (sent === undefined || sent === null) return DEFAULT_CLIENT;
  if (isClientId(sent)) return sent;
  throw new DinoscopeError(
    'BAD_INPUT',
    `The ${CLIENT_HEADER} client id must be 8 to 64 letters, digits, "-" or "_"; reload the page to get a new one.`,
  );
}
