// YAML parsers (Prometheus' and helm's among them) read U+0085, U+2028 and U+2029 as line breaks
// and drop or fold control characters, and YAML serializers write them unescaped. A spec string
// holding one would reach Prometheus changed, so such a spec is refused with the field named.
import { HookError } from './errors.js'

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u0085\u2028\u2029]/

function describe(text: string): string {
  const char = UNSAFE.exec(text)?.[0] ?? ''
  return `U+${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`
}

/** Throws HookError('InvalidConfiguration') naming the first key or string under `path` with such a character. */
export function assertPlainText(value: unknown, path: string): void {
  if (typeof value === 'string') {
    if (UNSAFE.test(value)) throw new HookError('InvalidConfiguration', `${path} contains the character ${describe(value)}, which YAML does not carry unchanged; remove it`)
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => assertPlainText(item, `${path}[${i}]`))
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      if (UNSAFE.test(key)) throw new HookError('InvalidConfiguration', `a key in ${path} contains the character ${describe(key)}, which YAML does not carry unchanged; remove it`)
      assertPlainText(item, `${path}.${key}`)
    }
  }
}
