// The overlay registry: providers by id, listed in registration order.
import { DinoscopeError } from '../../common/errors.js';
import type { OverlayProvider } from './provider.js';

export const OVERLAY_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;

export class OverlayRegistry {
  private readonly providers = new Map<string, OverlayProvider>();

  register(provider: OverlayProvider): void {
    if (!OVERLAY_ID_PATTERN.test(provider.id))
      throw new DinoscopeError('BAD_INPUT', `Overlay id "${provider.id}" must be lowercase letters, digits and dashes.`);
    if (this.providers.has(provider.id))
      throw new DinoscopeError('BAD_INPUT', `An overlay with id "${provider.id}" is already registered.`);
    this.providers.set(provider.id, provider);
  }

  get(id: string): OverlayProvider {
    const p = this.providers.get(id);
    if (!p) throw new DinoscopeError('NOT_FOUND', `No overlay has the id "${id}".`);
    return p;
  }

  async forImage(imageId: string): Promise<OverlayProvider[]> {
    const all = [...this.providers.values()];
    const applies = await Promise.all(all.map((p) => p.appliesTo(imageId).catch(() => false)));
    return all.filter((_, i) => applies[i]);
  }

  invalidate(imageId: string): void {
    for (const p of this.providers.values()) p.invalidate?.(imageId);
  }
}
