// What is wrong with a number typed into a NumberField, in plain words, or null when it is fine: empty or not
// a number, not a whole number where the field steps by whole numbers, below its minimum, above its maximum.

export interface NumberRules {
  min?: number;
  max?: number;
  /** Whole numbers only (a field whose step is a whole number). */
  whole?: boolean;
}

/** `name` starts the sentence ("Steps must be …"). An empty or cleared number input binds null or undefined. */
export function numberProblem(value: number | null | undefined, rules: NumberRules, name: string): string | null {
  if (value === null || value === undefined || !Number.isFinite(value)) return `${name} needs a number.`;
  if (rules.whole && !Number.isInteger(value)) return `${name} must be a whole number.`;
  if (rules.min !== undefined && rules.max !== undefined && (value < rules.min || value > rules.max))
    return `${name} must be from ${rules.min} to ${rules.max}.`;
  if (rules.min !== undefined && value < rules.min) return `${name} must be at least ${rules.min}.`;
  if (rules.max !== undefined && value > rules.max) return `${name} must be at most ${rules.max}.`;
  return null;
}
