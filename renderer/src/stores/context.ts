// Hands the window's AppStore to components without prop drilling.
import { getContext, setContext } from 'svelte';
import type { AppStore } from './app.svelte.js';

const key = Symbol('dinoscope-app');

export function provideApp(store: AppStore): void {
  setContext(key, store);
}

export function useApp(): AppStore {
  const store = getContext<AppStore | undefined>(key);
  if (!store) throw new Error('useApp() outside <App>');
  return store;
}
