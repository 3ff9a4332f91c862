// A failed connection in words a user can act on, instead of Node's `getaddrinfo ENOTFOUND host`.
import { DinoscopeError } from '../../common/errors.js';

const IMPORT_HINT = 'or download the file in a browser and add it with Models ▸ Import';

/** The DinoscopeError for a request to `url` that failed with `err` before or while connecting. */
export function networkError(url: string, err: Error & { code?: string }): DinoscopeError {
  let host = url;
  try {
    host = new URL(url).host;
  } catch {
    // keep the URL as given
  }
  const code = err.code ?? '';
  const say = (what: string): DinoscopeError => new DinoscopeError('INTERNAL', `${url}: ${what}.`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL' || code === 'EAI_NONAME') {
    return say(
      `cannot find the server ${host}: this computer seems to be offline or cannot look up names (check the network connection or proxy), ${IMPORT_HINT}`,
    );
  }
  if (code === 'ECONNREFUSED')
    return say(`${host} refused the connection: the server is down or the address is wrong; try again later, ${IMPORT_HINT}`);
  if (code === 'ECONNRESET' || code === 'EPIPE') return say(`the connection to ${host} was cut; try again (a partial download resumes)`);
  if (code === 'ETIMEDOUT' || code === 'ENETUNREACH' || code === 'EHOSTUNREACH')
    return say(`${host} cannot be reached from this network (a firewall or proxy may block it), ${IMPORT_HINT}`);
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
    return say(
      `the secure connection to ${host} could not be verified (${code}); a proxy or firewall may be intercepting it, ${IMPORT_HINT}`,
    );
  }
  return say(`the request failed (${err.message})`);
}
