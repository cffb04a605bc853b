/**
 * The books of the credit engine have one writer: `LoanAccounting.applyChange` applies a `BookChange` to the NAV
 * aggregates (`totalPrincipal`, `rateSum`, `interestNumerator`, `checkpointAt`), the impaired total (`impaired`), its markdown (`markdown`), the principal at risk and the junior's
 * USDai (`principalAtRisk`, `juniorAssets`) and
 * the exposures (`borrowerPrincipal[...]`, `sitePrincipal[...]`). This lint fails if any other Solidity file under
 * `contracts/` (mocks aside) assigns, increments, decrements or deletes one of them.
 *
 *   npx ts-node scripts/lint/books.ts   (part of `npm run lint`)
 */
import { readdirSync, readFileSync, statSync } from "fs";
import { join, relative } from "path";

/** The one file allowed to write the books. */
export const BOOKS_WRITER = "contracts/credit/logic/LoanAccounting.sol";

const FIELDS =
  "totalPrincipal|rateSum|interestNumerator|checkpointAt|impaired|markdown|principalAtRisk|juniorAssets|aggregates";
const MAPPINGS = "borrowerPrincipal|sitePrincipal";
const ASSIGN = String.raw`(?:=(?!=)|\+=|-=|\*=|/=|\+\+|--)`;
const PATTERNS = [
  new RegExp(String.raw`\.(${FIELDS})\s*${ASSIGN}`),
  new RegExp(String.raw`(?:\+\+|--)\s*[\w$.]*\.(${FIELDS})\b`),
  new RegExp(String.raw`\.(${MAPPINGS})\s*\[[^\]]*\]\s*${ASSIGN}`),
  new RegExp(String.raw`\bdelete\s+[\w$.]*\.(${FIELDS}|${MAPPINGS})\b`),
  // A storage reference to a book would let a later line write it under another name.
  new RegExp(String.raw`\bstorage\s+\w+\s*=\s*[\w$.]*\.(aggregates|${MAPPINGS})\b`),
];

export interface BookWrite {
  file: string;
  line: number;
  text: string;
}

/** Strips `//` and `/* ... *\/` comments, keeping line numbers. */
function stripComments(source: string): string {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, (block) => block.replace(/[^\n]/g, " "))
    .replace(/\/\/.*$/gm, "");
}

/** Every line of `source` that writes a book field. */
export function findBookWrites(file: string, source: string): BookWrite[] {
  const lines = stripComments(source).split("\n");
  const found: BookWrite[] = [];
  lines.forEach((text, i) => {
    if (PATTERNS.some((p) => p.test(text))) found.push({ file, line: i + 1, text: text.trim() });
  });
  return found;
}

function solidityFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "mocks" ? [] : solidityFiles(path);
    return path.endsWith(".sol") ? [path] : [];
  });
}

/** Book writes outside `BOOKS_WRITER` in the tree under `root`. */
export function bookWritesOutsideWriter(root: string): BookWrite[] {
  return solidityFiles(join(root, "contracts"))
    .map((path) => relative(root, path))
    .filter((file) => file !== BOOKS_WRITER)
    .flatMap((file) => findBookWrites(file, readFileSync(join(root, file), "utf8")));
}

if (require.main === module) {
  const writes = bookWritesOutsideWriter(join(__dirname, "..", ".."));
  if (writes.length !== 0) {
    console.error(`The books have one writer (${BOOKS_WRITER}); these lines write them elsewhere:`);
    for (const w of writes) console.error(`  ${w.file}:${w.line}  ${w.text}`);
    process.exit(1);
  }
  console.log(`books: only ${BOOKS_WRITER} writes the aggregates, the impaired total and the exposures`);
}
