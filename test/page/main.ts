// Entry of the test page: exposes the page-side cases to the Node tests.

import { adapter, cases, type CaseName } from './cases';

export interface NclabTestApi {
  adapter: typeof adapter;
  run(name: CaseName, args: unknown): Promise<unknown>;
}

declare global {
  interface Window {
    nclabTest?: NclabTestApi;
  }
}

window.nclabTest = {
  adapter,
  run: (name, args) => (cases[name] as (a: unknown) => Promise<unknown>)(args),
};
