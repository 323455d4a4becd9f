// The study flow compiles on the generated types alone (scripts/contract.sh): this refuses every
// way out of the type checker in study-flow.ts - a cast (`as T`, `<T>x`), a non-null assertion
// (`x!`), an `any`, and a `@ts-ignore` / `@ts-expect-error` / `@ts-nocheck` comment. In the study
// page's JavaScript (web/**/*.js) the same, as JSDoc spells them (a `/** @type {T} */ (x)` cast, an
// `{any}`, `{*}` or `{?}`), and each file must start with `// @ts-check`; declaration files
// (web/**/*.d.ts) as TypeScript.
// Usage: node no-escape.mjs <file.ts|file.d.ts|file.js>...; exits 1 on any.

import { readFileSync } from "node:fs";
import ts from "typescript";

let found = 0;
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, "utf8");
  const js = file.endsWith(".js");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, js ? ts.ScriptKind.JS : ts.ScriptKind.TS);
  const report = (node, what) => {
    const { line, character } = source.getLineAndCharacterOfPosition(node.getStart(source));
    console.error(`${file}:${line + 1}:${character + 1}: ${what}: ${node.getText(source).slice(0, 80)}`);
    found += 1;
  };
  const visit = (node) => {
    if (ts.isAsExpression(node)) report(node, "a cast");
    else if (ts.isTypeAssertionExpression(node)) report(node, "a cast");
    else if (ts.isNonNullExpression(node)) report(node, "a non-null assertion");
    else if (node.kind === ts.SyntaxKind.AnyKeyword) report(node, "an any");
    else if (js && ts.isParenthesizedExpression(node) && ts.getJSDocTypeTag(node)) report(node, "a JSDoc cast");
    ts.forEachChild(node, visit);
  };
  visit(source);
  if (js && !text.startsWith("// @ts-check\n")) {
    console.error(`${file}:1: does not start with // @ts-check`);
    found += 1;
  }
  // JSDoc's own spellings of any: `*` (all types) and a lone `?` (unknown type, not `?T`, nullable).
  const jsdocAny = /\bany\b|(^|[<,(|[:\s])\*(?=$|[>,)|\]\s])|(^|[<,(|[:\s])\?(?=$|[>,)|\]\s=])/;
  for (const m of js ? text.matchAll(/@\w+\s*\{([^}]*)\}/g) : []) {
    if (!jsdocAny.test(m[1] ?? "")) continue;
    const { line } = source.getLineAndCharacterOfPosition(m.index);
    console.error(`${file}:${line + 1}: an any in JSDoc: ${m[0]}`);
    found += 1;
  }
  for (const m of text.matchAll(/@ts-(ignore|expect-error|nocheck)\b/g)) {
    const { line } = source.getLineAndCharacterOfPosition(m.index);
    console.error(`${file}:${line + 1}: a @ts-${m[1]} comment`);
    found += 1;
  }
}
if (found > 0) {
  console.error(`no-escape: ${found} way(s) out of the type checker`);
  process.exit(1);
}
console.log(`no-escape: no cast, no non-null assertion, no any, no ts-ignore in ${process.argv.slice(2).join(" ")}`);
