/**
 * Run-time shape checks for feature values: TypeScript types are erased, so the
 * host checks what a plugin exports before it uses it.
 */
export interface Shape<T> {
  /** What is expected, for error messages: "a function", "an array of functions". */
  expected: string;
  test(value: unknown): value is T;
}

/** Describes a value for an error message: "a string", "an object with keys a, b". */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return `an object with keys ${Object.keys(value).join(', ') || '(none)'}`;
  return `a ${typeof value} (${JSON.stringify(value)})`;
}

export const fn: Shape<(...args: never[]) => unknown> = {
  expected: 'a function',
  test: (v): v is (...args: never[]) => unknown => typeof v === 'function',
};

export const string: Shape<string> = {
  expected: 'a string',
  test: (v): v is string => typeof v === 'string',
};

export function arrayOf<T>(item: Shape<T>): Shape<T[]> {
  return {
    expected: `an array of ${item.expected.replace(/^an? /, '')}s`,
    test: (v): v is T[] => Array.isArray(v) && v.every((x) => item.test(x)),
  };
}

/** An object whose listed keys pass their shapes; `?`-suffixed keys may be missing. */
export function objectWith<T>(fields: Record<string, Shape<unknown>>): Shape<T> {
  const names = Object.keys(fields).map((k) => k.replace(/\?$/, ''));
  return {
    expected: `an object with ${names.join(', ')}`,
    test: (v): v is T => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
      const o = v as Record<string, unknown>;
      return Object.entries(fields).every(([k, shape]) => {
        const optional = k.endsWith('?');
        const value = o[k.replace(/\?$/, '')];
        return (optional && value === undefined) || shape.test(value);
      });
    },
  };
}

export const object: Shape<Record<string, unknown>> = {
  expected: 'an object',
  test: (v): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v),
};
