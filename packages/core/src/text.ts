// What free text (a reason, an actor name) may hold before it reaches Postgres and the logs.

/**
 * A high surrogate not followed by a low one, or a low one not preceded by a high one: a `\ud800`
 * escape is valid JSON but not text, and jsonb refuses it.
 */
export const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * C0 and C1 control characters but tab: Postgres text refuses NUL outright, and the others forge
 * log lines and hide text in the approval page.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const CONTROL_CHARACTER = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;

/** Why `value` cannot be stored as free text ("must not contain …"), or null when it can. */
export function textProblem(value: string): string | null {
  if (CONTROL_CHARACTER.test(value)) return "must not contain control characters";
  if (UNPAIRED_SURROGATE.test(value)) return "must not contain an unpaired UTF-16 surrogate";
  return null;
}
