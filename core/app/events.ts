// A typed event emitter over the API contract's events.
import type { ApiEvent, DinoscopeEvents } from '../common/api.js';

export type Listener<E extends ApiEvent> = (payload: DinoscopeEvents[E]) => void;

export class TypedEmitter {
  private readonly listeners = new Map<ApiEvent, Set<(payload: never) => void>>();

  on<E extends ApiEvent>(event: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }

  emit<E extends ApiEvent>(event: E, payload: DinoscopeEvents[E]): void {
    for (const l of this.listeners.get(event) ?? []) {
      try {
        (l as Listener<E>)(payload);
      } catch {
        // A failing listener must not break the emitter or other listeners.
      }
    }
  }
}
