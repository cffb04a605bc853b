import { expect } from "chai";

/**
 * Snapshot of any set of views, to prove that a reverted call changed nothing:
 *   const before = await snapshot(reads); await expect(tx).to.be.reverted...; await expectUnchanged(before, reads);
 */
export type Reads = Record<string, () => Promise<unknown>>;

export async function snapshot(reads: Reads): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [key, read] of Object.entries(reads)) out[key] = await read();
  return out;
}

export async function expectUnchanged(before: Record<string, unknown>, reads: Reads): Promise<void> {
  const after = await snapshot(reads);
  expect(after, "state changed after a reverted call").to.deep.equal(before);
}
