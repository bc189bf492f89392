// A small YAML writer for JSON data (strings, numbers, booleans, null, arrays, objects): block style,
// every string double-quoted with JSON escapes (valid YAML), so no value can change type or meaning on
// the way (`yes`, `1e3`, `${VAR}` stay strings). Output is deterministic: keys in their given order.

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** Key characters YAML reads as a plain string; anything else (and YAML 1.1 booleans) is quoted. */
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_./-]*$/;
const RESERVED_KEY = /^(y|n|yes|no|on|off|true|false|null)$/i;

function key(name: string): string {
  return PLAIN_KEY.test(name) && !RESERVED_KEY.test(name) ? name : JSON.stringify(name);
}

function scalar(value: Exclude<Json, Json[] | { [key: string]: Json }>): string {
  if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`not JSON data: ${value}`);
  return JSON.stringify(value);
}

const isCollection = (value: Json): value is Json[] | { [key: string]: Json } =>
  value !== null && typeof value === 'object';
const isEmpty = (value: Json[] | { [key: string]: Json }) =>
  Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0;

/** The lines of `value` at `indent` spaces (a collection value; scalars are written inline by the caller). */
function lines(value: Json[] | { [key: string]: Json }, indent: number): string[] {
  const pad = ' '.repeat(indent);
  const out: string[] = [];
  const entries: [string | undefined, Json][] = Array.isArray(value)
    ? value.map((v) => [undefined, v])
    : Object.entries(value);
  for (const [name, item] of entries) {
    const head = name === undefined ? `${pad}- ` : `${pad}${key(name)}:`;
    if (!isCollection(item)) {
      out.push(name === undefined ? `${head}${scalar(item)}` : `${head} ${scalar(item)}`);
    } else if (isEmpty(item)) {
      out.push(
        name === undefined
          ? `${head}${Array.isArray(item) ? '[]' : '{}'}`
          : `${head} ${Array.isArray(item) ? '[]' : '{}'}`,
      );
    } else if (name === undefined) {
      // A list item that is a collection starts on the dash's line.
      const nested = lines(item, indent + 2);
      out.push(`${head}${(nested[0] as string).slice(indent + 2)}`, ...nested.slice(1));
    } else {
      out.push(head, ...lines(item, indent + 2));
    }
  }
  return out;
}

/**
 * YAML text (ending in a newline) for a JSON object.
 * @throws TypeError for values JSON cannot hold (NaN, Infinity).
 */
export function toYaml(value: { [key: string]: Json }): string {
  return isEmpty(value) ? '{}\n' : `${lines(value, 0).join('\n')}\n`;
}

export type { Json };
