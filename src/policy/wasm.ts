// The OPA-wasm engine: a policy.wasm built by `opa build -t wasm`, run by
// @open-policy-agent/opa-wasm with the bundle's data. Evaluation is synchronous.

import { createRequire } from 'node:module';
import { PolicyError } from './errors.js';
import { type Value, fromJS, stringify, toJSON } from './value.js';

interface LoadedPolicy {
  entrypoints: Record<string, number>;
  evaluate(input: unknown, entrypoint?: number | string): Array<{ result: unknown }>;
  setData(data: object): void;
}

const require = createRequire(import.meta.url);

export interface WasmPolicy {
  entrypoints: Record<string, number>;
  /** Result set of one entrypoint (`[]` when undefined). Data set via setData stays until replaced. */
  evaluate(input: unknown, entrypoint: string | number): Array<{ result: unknown }>;
  setData(data: Value): void;
}

export async function loadWasm(wasm: Buffer, data: Value, source: string): Promise<WasmPolicy> {
  const { loadPolicy } = require('@open-policy-agent/opa-wasm') as { loadPolicy: (b: Uint8Array | ArrayBuffer) => Promise<LoadedPolicy> };
  let p: LoadedPolicy;
  // ABI 1.0 modules make the SDK print a warning per load; keep stderr clean.
  const origError = console.error;
  console.error = () => {};
  try {
    p = await loadPolicy(wasm);
  } catch (e) {
    throw new PolicyError('wasm_error', `${source}: cannot load policy.wasm: ${(e as Error).message}`);
  } finally {
    console.error = origError;
  }
  const json = (v: Value): object => toJSON(v) as object;
  p.setData(json(data));
  return {
    entrypoints: p.entrypoints,
    evaluate: (input, ep) => {
      try {
        // Text input keeps integers beyond 2^53 exact (the SDK would JSON.stringify a bigint and fail).
        const text = Buffer.from(stringify(fromJS(input)));
        return p.evaluate(text.buffer.slice(text.byteOffset, text.byteOffset + text.byteLength), ep);
      } catch (e) {
        throw new PolicyError('wasm_error', typeof e === 'string' ? e : String((e as Error).message ?? e));
      }
    },
    setData: (d) => p.setData(json(d)),
  };
}
