// Whatever a transport rejects with becomes a DinoscopeError: envelopes as they are, anything else as
// INTERNAL with its message.
import { DinoscopeError, fromEnvelope, isErrorEnvelope } from '../../../core/common/errors.js';

export function toDinoscopeError(err: unknown): DinoscopeError {
  if (err instanceof DinoscopeError) return err;
  if (isErrorEnvelope(err)) return fromEnvelope(err);
  if (err instanceof Error) {
    // Electron's ipcRenderer.invoke wraps a main-process error as "Error invoking remote method 'x': …".
    const m = /^Error invoking remote method '[^']+': (?:\w*Error: )?(.*)$/s.exec(err.message);
    const e = new DinoscopeError('INTERNAL', m ? m[1] : err.message);
    return e;
  }
  return new DinoscopeError('INTERNAL', String(err));
}
