/** Runs `fn` with console.log captured (task output, hardhat-deploy's `log`); returns what was printed. */
export async function captureLogs(fn: () => Promise<unknown>): Promise<string> {
  const lines: string[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => lines.push(args.map(String).join(" "));
  try {
    await fn();
  } finally {
    console.log = original;
  }
  return lines.join("\n");
}
