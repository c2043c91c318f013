// The metric names a PromQL expression reads. Every selector in the chart's rules and dashboard is
// written name{matchers}, so the names are the identifiers before a `{`; `bareIdentifiers` finds
// anything left that could be a metric written without braces, so a test can refuse it.

const FUNCTIONS_AND_KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset'])

/** Names of the metrics selected as name{...}. */
export function metricNames(expr: string): string[] {
  return [...new Set([...stripStrings(expr).matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{/g)].map((m) => m[1] ?? ''))]
}

/**
 * Identifiers that are neither a selector name{...}, a function call, a grouping label list, a
 * range nor a keyword: a metric selected without braces would be one of them.
 */
export function bareIdentifiers(expr: string): string[] {
  const rest = stripStrings(expr)
    .replace(/[a-zA-Z_:][a-zA-Z0-9_:]*\s*\{[^}]*\}/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\b[a-zA-Z_][a-zA-Z0-9_]*\s*\(/g, '(')
    .replace(/\[[^\]]*\]/g, ' ')
  return [...rest.matchAll(/\b[a-zA-Z_:][a-zA-Z0-9_:]*\b/g)].map((m) => m[0]).filter((w) => !FUNCTIONS_AND_KEYWORDS.has(w))
}

function stripStrings(expr: string): string {
  return expr.replace(/"(?:[^"\\]|\\.)*"/g, '""')
}
