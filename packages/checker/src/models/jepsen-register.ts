/**
 * The register of Jepsen's etcd tests (and Porcupine's etcd model): one integer register,
 * initially absent (`nil`), with `read`, `write` and compare-and-set. A `cas` that returned
 * `:fail` is a definite outcome: the compare failed, so the register did not hold `from`.
 */
import type { Model, StepResult } from '../model.js';
import { hashNumber } from './hash.js';

export type JepsenRegisterValue = number | null;

export type JepsenRegisterInput =
  | { readonly f: 'read' }
  | { readonly f: 'write'; readonly value: number }
  | { readonly f: 'cas'; readonly from: number; readonly to: number };

/** `read` answers `{ value }` (`null`: nil); `write` answers `{}`; `cas` answers `{ ok }`. */
export type JepsenRegisterOutput = { readonly value: JepsenRegisterValue } | { readonly ok: boolean } | Readonly<Record<string, never>>;

const ILLEGAL: StepResult<JepsenRegisterValue> = { ok: false, state: null };

export const jepsenRegisterModel: Model<JepsenRegisterValue, JepsenRegisterInput, JepsenRegisterOutput> = {
  init: () => null,
  step(state, input, output) {
    switch (input.f) {
      case 'read':
        return output === undefined || (output as { value: JepsenRegisterValue }).value === state ? { ok: true, state } : ILLEGAL;
      case 'write':
        return { ok: true, state: input.value };
      case 'cas': {
        const matches = state === input.from;
        if (output !== undefined && (output as { ok: boolean }).ok !== matches) return ILLEGAL;
        return { ok: true, state: matches ? input.to : state };
      }
    }
  },
  equal: (a, b) => a === b,
  hash: (s) => (s === null ? 0x6e696c : hashNumber(s)),
  isReadOnly: (input) => input.f === 'read',
  validate(input, output) {
    switch (input.f) {
      case 'read':
        return output === undefined || ('value' in output && (output.value === null || Number.isInteger(output.value)))
          ? undefined
          : 'a read answers { value: integer | null }';
      case 'write':
        return Number.isInteger(input.value) ? undefined : 'a write takes an integer value';
      case 'cas':
        if (!Number.isInteger(input.from) || !Number.isInteger(input.to)) return 'a cas takes integer from and to';
        return output === undefined || ('ok' in output && typeof output.ok === 'boolean') ? undefined : 'a cas answers { ok: boolean }';
      default:
        return `unknown operation ${JSON.stringify((input as { f?: unknown }).f)}`;
    }
  },
  describeOperation(input, output) {
    const unknown = output === undefined;
    switch (input.f) {
      case 'read':
        return `read → ${unknown ? '?' : String((output as { value: JepsenRegisterValue }).value ?? 'nil')}`;
      case 'write':
        return `write ${input.value}${unknown ? ' → ?' : ''}`;
      case 'cas':
        return `cas ${input.from}→${input.to} → ${unknown ? '?' : (output as { ok: boolean }).ok ? 'ok' : 'fail'}`;
    }
  },
  describeState: (s) => (s === null ? 'nil' : String(s)),
};
