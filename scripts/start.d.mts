// Types of scripts/start.mjs's exports, for scripts/start.test.ts.
export declare const root: string;
export declare const targets: Record<'cli' | 'electron' | 'renderer', { sources: string[]; outputs: string[] }>;
export declare function staleTargets(base: string, wanted: string[], options?: { missingOnly?: boolean }): string[];
export declare function installedElectron(base: string, env: NodeJS.ProcessEnv): string | null;
export declare function resolveElectron(base: string, env: NodeJS.ProcessEnv, timeoutMs: number): { path: string } | { reason: string };
export declare function splitArgs(argv: string[]): { serve: string[]; electron: string[] };
