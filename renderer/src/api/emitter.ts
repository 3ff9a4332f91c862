// The renderer's event fan-out for host events, shared by both transports: the common emitter, logging a
// failing listener to the console.
import { TypedEmitter } from '../../../core/common/emitter.js';

export class EventHub extends TypedEmitter {
  constructor() {
    super((event, err) => console.error(`dinoscope: a ${event} listener failed`, err));
  }
}
