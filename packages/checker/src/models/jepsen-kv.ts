/**
 * The string key-value map of Porcupine's KV tests: `get` answers the key's string (`""` when
 * absent), `put` replaces it, `append` concatenates. Keys are independent, so it partitions by key.
 */
import type { Model, StepResult } from '../model.js';
import { hashString } from './hash.js';

export type JepsenKvInput =
  | { readonly f: 'get'; readonly key: string }
  | { readonly f: 'put'; readonly key: string; readonly value: string }
  | { readonly f: 'append'; readonly key: string; readonly value: string };

/** `get` answers `{ value }`; `put` and `append` answer `{}`. */
export type JepsenKvOutput = { readonly value: string } | Readonly<Record<string, never>>;

const ILLEGAL: StepResult<string> = { ok: false, state: '' };

export const jepsenKvModel: Model<string, JepsenKvInput, JepsenKvOutput> = {
  init: () => '',
  step(state, input, output) {
    switch (input.f) {
      case 'get':
        return output === undefined || (output as { value: string }).value === state ? { ok: true, state } : ILLEGAL;
      case 'put':
        return { ok: true, state: input.value };
      case 'append':
        return { ok: true, state: state + input.value };
    }
  },
  equal: (a, b) => a === b,
  hash: hashString,
  partitionKey: (input) => input.key,
  isReadOnly: (input) => input.f === 'get',
  validate(input, output) {
    if (typeof input.key !== 'string') return 'the key must be a string';
    switch (input.f) {
      case 'get':
        return output === undefined || ('value' in output && typeof output.value === 'string') ? undefined : 'a get answers { value: string }';
      case 'put':
      case 'append':
        return typeof input.value === 'string' ? undefined : `${input.f} takes a string value`;
      default:
        return `unknown operation ${JSON.stringify((input as { f?: unknown }).f)}`;
    }
  },
  describeOperation(input, output) {
    const k = JSON.stringify(input.key);
    switch (input.f) {
      case 'get':
        return `get(${k}) → ${output === undefined ? '?' : JSON.stringify((output as { value: string }).value)}`;
      case 'put':
      case 'append':
        return `${input.f}(${k}, ${JSON.stringify(input.value)})${output === undefined ? ' → ?' : ''}`;
    }
  },
  describeState: (s) => JSON.stringify(s),
};
