// A NUL character cannot be stored in PostgreSQL text, and a lone UTF-16
// surrogate has no UTF-8 form (it would be stored as U+FFFD, silently
// changing the text). Both are refused at the edge as the client's mistake.
const NUL = /\u0000/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What is wrong with a string for storage as text, or null. */
export function textProblem(value: string): string | null {
  if (NUL.test(value)) return 'contains a NUL character (\\u0000)';
  if (LONE_SURROGATE.test(value)) return 'contains a lone UTF-16 surrogate (not valid Unicode)';
  return null;
}

/**
 * The first string in a JSON value (keys included) that cannot be stored,
 * as `{ path, problem }`, or null. Paths read like `input.title` or
 * `events.3.text`.
 */
export function findTextProblem(value: unknown, path: string, depth = 0): { path: string; problem: string } | null {
  if (typeof value === 'string') {
    const problem = textProblem(value);
    return problem ? { path, problem } : null;
  }
  // Deeper than any input type goes; the parser's own limits apply anyway.
  if (value === null || typeof value !== 'object' || depth > 64) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findTextProblem(value[i], `${path}.${i}`, depth + 1);
      if (found) return found;
    }
    return null;
  }
  for (const [key, inner] of Object.entries(value)) {
    const keyProblem = textProblem(key);
    if (keyProblem) return { path: `${path} (a key)`, problem: keyProblem };
    const found = findTextProblem(inner, path ? `${path}.${key}` : key, depth + 1);
    if (found) return found;
  }
  return null;
}
