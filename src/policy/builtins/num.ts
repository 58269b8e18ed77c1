// Exact number arithmetic: JS numbers while results stay exact, bigint for
// integers beyond 2^53 (OPA numbers are arbitrary precision).

import { type Value, normBig } from '../value.js';

export type Num = number | bigint;

function isIntegral(x: Num): boolean {
  return typeof x === 'bigint' || Number.isInteger(x);
}

function big(x: Num): bigint {
  return typeof x === 'bigint' ? x : BigInt(x);
}

export function add(a: Num, b: Num): Num {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a + b;
    if (Number.isSafeInteger(r) || !Number.isInteger(a) || !Number.isInteger(b)) return r;
    return normBig(big(a) + big(b));
  }
  if (isIntegral(a) && isIntegral(b)) return normBig(big(a) + big(b));
  return Number(a) + Number(b);
}

export function sub(a: Num, b: Num): Num {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a - b;
    if (Number.isSafeInteger(r) || !Number.isInteger(a) || !Number.isInteger(b)) return r;
    return normBig(big(a) - big(b));
  }
  if (isIntegral(a) && isIntegral(b)) return normBig(big(a) - big(b));
  return Number(a) - Number(b);
}

export function mul(a: Num, b: Num): Num {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a * b;
    if (Number.isSafeInteger(r) || !Number.isInteger(a) || !Number.isInteger(b)) return r;
    return normBig(big(a) * big(b));
  }
  if (isIntegral(a) && isIntegral(b)) return normBig(big(a) * big(b));
  return Number(a) * Number(b);
}

/** Exact when both are integers and divide evenly; a float otherwise. */
export function div(a: Num, b: Num): Num {
  if (isIntegral(a) && isIntegral(b) && (typeof a === 'bigint' || typeof b === 'bigint')) {
    const x = big(a);
    const y = big(b);
    if (x % y === 0n) return normBig(x / y);
  }
  return Number(a) / Number(b);
}

export function rem(a: Num, b: Num): Num {
  if (typeof a === 'number' && typeof b === 'number') return a % b === 0 ? 0 : a % b;
  return normBig(big(a) % big(b));
}

export function isZero(x: Num): boolean {
  return typeof x === 'bigint' ? x === 0n : x === 0;
}

export function toNum(v: Value): Num {
  return v as Num;
}

export { isIntegral, big };
