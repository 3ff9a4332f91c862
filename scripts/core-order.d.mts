// Types of scripts/core-order.mjs's exports, for scripts/core-order.test.ts.
export declare const CORE_ORDER: string[];
export declare const coreOrderPlugin: { rules: Record<'core-order', unknown> };
