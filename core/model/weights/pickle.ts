// A Python pickle read as data, never as code. Python's own unpickler imports and calls whatever the stream
// names (GLOBAL + REDUCE is how a pickle runs `os.system`); this one calls nothing: a global is a name, and
// applying it is handed to `construct`, which builds plain values for the few names it knows (an
// OrderedDict, a tensor's rebuild function) and leaves everything else an inert record. So a hostile
// checkpoint can at worst fail to import.
// Covers the opcodes of protocols 0–5 that data pickles use (torch.save writes protocol 2); others, and
// anything malformed, are CORRUPT with the byte offset.
import { DinoscopeError } from '../../common/errors.js';

export interface PickleGlobal {
  kind: 'global';
  module: string;
  name: string;
}
export interface PickleTuple {
  kind: 'tuple';
  items: PickleValue[];
}
/** A global applied to arguments that `construct` did not turn into a value: kept, never run. */
export interface PickleObject {
  kind: 'object';
  type: PickleGlobal;
  args: PickleValue[];
  state?: PickleValue;
  items?: PickleValue[];
}
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | Map<PickleValue, PickleValue>
  | Set<PickleValue>
  | PickleTuple
  | PickleGlobal
  | PickleObject
  | { kind: 'opaque'; value: unknown };

export interface UnpickleHooks {
  /** The value of a persistent id (torch.save stores tensors' storages this way). */
  persistentLoad(pid: PickleValue): PickleValue;
  /** A value for `fn(...args)` when `fn` is one the caller knows, else undefined (kept as a PickleObject). */
  construct?(fn: PickleGlobal, args: PickleValue[]): PickleValue | undefined;
}

const MARK = Symbol('mark');
type Slot = PickleValue | typeof MARK;

const isGlobal = (v: unknown): v is PickleGlobal => typeof v === 'object' && v !== null && (v as PickleGlobal).kind === 'global';
const isObject = (v: unknown): v is PickleObject => typeof v === 'object' && v !== null && (v as PickleObject).kind === 'object';

/** A global whose call builds a dict: the item opcodes that follow then fill it. */
const DICT_TYPES = new Set(['collections.OrderedDict', 'builtins.dict', '__builtin__.dict']);

export function unpickle(bytes: Uint8Array, hooks: UnpickleHooks, source = 'pickle'): PickleValue {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: Slot[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PickleValue>();
  let p = 0;
  const fail = (what: string): never => {
    throw new DinoscopeError('CORRUPT', `${source}: ${what} (at byte ${p}).`);
  };
  const need = (n: number): void => {
    if (p + n > buf.length) fail('the pickle ends early');
  };
  const pop = (): PickleValue => {
    const v = stack.pop();
    if (v === undefined || v === MARK) return fail('an opcode found too few values');
    return v;
  };
  const top = (): PickleValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) return fail('an opcode found no value');
    return v;
  };
  const popMark = (): PickleValue[] => {
    const at = marks.pop();
    if (at === undefined) return fail('a MARK is missing');
    const items = stack.splice(at + 1) as PickleValue[];
    stack.pop(); // the mark itself
    return items;
  };
  const line = (): string => {
    const end = buf.indexOf(0x0a, p);
    if (end < 0) fail('a text argument has no end of line');
    const s = buf.toString('latin1', p, end);
    p = end + 1;
    return s;
  };
  const text = (n: number, encoding: 'utf8' | 'latin1' = 'utf8'): string => {
    need(n);
    const s = buf.toString(encoding, p, p + n);
    p += n;
    return s;
  };
  const bytesOf = (n: number): Uint8Array => {
    need(n);
    const b = new Uint8Array(buf.subarray(p, p + n));
    p += n;
    return b;
  };
  const setItems = (target: PickleValue, items: PickleValue[]): void => {
    if (items.length % 2 !== 0) fail('SETITEMS has an odd number of values');
    if (target instanceof Map) for (let i = 0; i < items.length; i += 2) target.set(items[i], items[i + 1]);
    else if (isObject(target)) (target.items ??= []).push(...items);
    else fail('SETITEMS on a value that is not a dict');
  };
  const append = (target: PickleValue, items: PickleValue[]): void => {
    if (Array.isArray(target)) target.push(...items);
    else if (isObject(target)) (target.items ??= []).push(...items);
    else fail('APPEND on a value that is not a list');
  };
  const call = (fn: PickleValue, args: PickleValue[]): PickleValue => {
    if (!isGlobal(fn)) return fail('REDUCE on a value that is not a global name');
    if (DICT_TYPES.has(`${fn.module}.${fn.name}`) && args.length === 0) return new Map();
    const built = hooks.construct?.(fn, args);
    return built === undefined ? { kind: 'object', type: fn, args } : built;
  };
  const signedLong = (n: number): number | bigint => {
    if (n === 0) return 0;
    const b = bytesOf(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };

  for (;;) {
    need(1);
    const op = buf[p++];
    switch (op) {
      case 0x80: // PROTO
        need(1);
        if (buf[p++] > 5) fail('pickle protocol above 5');
        break;
      case 0x95: // FRAME
        need(8);
        p += 8;
        break;
      case 0x2e: {
        // STOP
        const v = pop();
        return v;
      }
      case 0x28: // MARK
        marks.push(stack.length);
        stack.push(MARK);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push({ kind: 'tuple', items: [] });
        break;
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        break;
      case 0x74: // TUPLE
        stack.push({ kind: 'tuple', items: popMark() });
        break;
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: {
        // TUPLE3
        const n = op - 0x84;
        const items: PickleValue[] = [];
        for (let i = 0; i < n; i++) items.unshift(pop());
        stack.push({ kind: 'tuple', items });
        break;
      }
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x64: {
        // DICT
        const d = new Map<PickleValue, PickleValue>();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x91: // FROZENSET
        stack.push(new Set(popMark()));
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof Set)) fail('ADDITEMS on a value that is not a set');
        for (const v of items) (s as Set<PickleValue>).add(v);
        break;
      }
      case 0x4a: // BININT
        need(4);
        stack.push(buf.readInt32LE(p));
        p += 4;
        break;
      case 0x4b: // BININT1
        need(1);
        stack.push(buf[p++]);
        break;
      case 0x4d: // BININT2
        need(2);
        stack.push(buf.readUInt16LE(p));
        p += 2;
        break;
      case 0x8a: {
        // LONG1
        need(1);
        const n = buf[p++];
        stack.push(signedLong(n));
        break;
      }
      case 0x8b: {
        // LONG4
        need(4);
        const n = buf.readUInt32LE(p);
        p += 4;
        if (n > 1024) fail('an integer of more than 1024 bytes');
        stack.push(signedLong(n));
        break;
      }
      case 0x49: {
        // INT (text): also protocol 0's booleans "I00"/"I01"
        const s = line().trim();
        stack.push(s === '00' ? false : s === '01' ? true : Number(s));
        break;
      }
      case 0x4c: // LONG (text)
        stack.push(Number(line().trim().replace(/L$/, '')));
        break;
      case 0x47: // BINFLOAT
        need(8);
        stack.push(buf.readDoubleBE(p));
        p += 8;
        break;
      case 0x46: // FLOAT (text)
        stack.push(Number(line()));
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x58: // BINUNICODE
        need(4);
        p += 4;
        stack.push(text(buf.readUInt32LE(p - 4)));
        break;
      case 0x8c: // SHORT_BINUNICODE
        need(1);
        stack.push(text(buf[p++]));
        break;
      case 0x8d: // BINUNICODE8
        need(8);
        p += 8;
        stack.push(text(Number(buf.readBigUInt64LE(p - 8))));
        break;
      case 0x54: // BINSTRING (Python 2 str)
        need(4);
        p += 4;
        stack.push(text(buf.readInt32LE(p - 4), 'latin1'));
        break;
      case 0x55: // SHORT_BINSTRING
        need(1);
        stack.push(text(buf[p++], 'latin1'));
        break;
      case 0x42: // BINBYTES
        need(4);
        p += 4;
        stack.push(bytesOf(buf.readUInt32LE(p - 4)));
        break;
      case 0x43: // SHORT_BINBYTES
        need(1);
        stack.push(bytesOf(buf[p++]));
        break;
      case 0x8e: // BINBYTES8
        need(8);
        p += 8;
        stack.push(bytesOf(Number(buf.readBigUInt64LE(p - 8))));
        break;
      case 0x96: // BYTEARRAY8
        need(8);
        p += 8;
        stack.push(bytesOf(Number(buf.readBigUInt64LE(p - 8))));
        break;
      case 0x71: // BINPUT
        need(1);
        memo.set(buf[p++], top());
        break;
      case 0x72: // LONG_BINPUT
        need(4);
        memo.set(buf.readUInt32LE(p), top());
        p += 4;
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x70: // PUT (text)
        memo.set(Number(line()), top());
        break;
      case 0x68: // BINGET
      case 0x6a: // LONG_BINGET
      case 0x67: {
        // GET (text)
        let k: number;
        if (op === 0x68) {
          need(1);
          k = buf[p++];
        } else if (op === 0x6a) {
          need(4);
          k = buf.readUInt32LE(p);
          p += 4;
        } else k = Number(line());
        if (!memo.has(k)) fail(`a memo entry ${k} that was never stored`);
        stack.push(memo.get(k) as PickleValue);
        break;
      }
      case 0x63: {
        // GLOBAL: "module\nname\n"
        const module = line();
        stack.push({ kind: 'global', module, name: line() });
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL without two names');
        stack.push({ kind: 'global', module: module as string, name: name as string });
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        if (typeof args !== 'object' || args === null || (args as PickleTuple).kind !== 'tuple') fail('REDUCE without an argument tuple');
        stack.push(call(fn, (args as PickleTuple).items));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args), kept as a record
        const args = pop();
        const cls = pop();
        if (!isGlobal(cls)) fail('NEWOBJ on a value that is not a global name');
        stack.push(call(cls, (args as PickleTuple).items ?? []));
        break;
      }
      case 0x62: {
        // BUILD: obj.__setstate__(state), kept as data
        const state = pop();
        const obj = top();
        if (isObject(obj)) obj.state = state;
        else if (obj instanceof Map && state instanceof Map) for (const [k, v] of state) obj.set(k, v);
        break;
      }
      case 0x51: // BINPERSID
        stack.push(hooks.persistentLoad(pop()));
        break;
      case 0x50: // PERSID (text)
        stack.push(hooks.persistentLoad(line()));
        break;
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        append(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x30: // POP
        if (stack.pop() === MARK) marks.pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      default:
        fail(`opcode 0x${op.toString(16).padStart(2, '0')} is not one a data pickle uses`);
    }
  }
}
