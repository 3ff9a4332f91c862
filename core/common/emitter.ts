// A typed event fan-out over the API contract's events (pure), shared by the app service and the renderer's
// transports. A failing listener never breaks the emitter or the other listeners; its error goes to `onError`.
import type { ApiEvent, DinoscopeEvents } from './api.js';

export type Listener<E extends ApiEvent> = (payload: DinoscopeEvents[E]) => void;

export class TypedEmitter {
  private readonly listeners = new Map<ApiEvent, Set<(payload: never) => void>>();

  /** `onError` receives a listener's exception (default: dropped). */
  constructor(private readonly onError: (event: ApiEvent, err: unknown) => void = () => undefined) {}

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
      } catch (err) {
        this.onError(event, err);
      }
    }
  }
}
