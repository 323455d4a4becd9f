// The error-code catalogue against the handlers (scripts/contract.sh): `ProblemCode` in
// docs/openapi.yaml must list exactly the codes the Rust sources can put in a problem document,
// each with the status the sources give it, and every operation's problem examples must name
// catalogued codes under their own status.
//
// How the sources declare codes (shared/edge/src/problem.rs is the one mapping to HTTP):
//   - `ApiError::bad_request("code", ..)` and the other constructors that take a code: the
//     constructor's variant (`Self::BadRequest { code, .. }`) decides the status;
//   - `ApiError::Conflict { code: "code", .. }` and the other variants with a `code` field, or
//     `code: some_fn(..)` where `some_fn` answers codes from a `match`;
//   - the variants with a fixed code: the arms of `ApiError::code()` (`Self::NotFound(_) =>
//     "not_found"`), their status from `ApiError::status()`;
//   - quotas: `quota_code()` arms; a quota is a 429 when `Quota::resets_daily()` names it, else 409.
// Anything that looks like a code declaration this file cannot read (a code from a variable, a
// constructor called with something other than a literal) fails the check, so a new way of
// declaring codes is taught here rather than missed.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const STATUS = {
  BAD_REQUEST: 400, UNAUTHORIZED: 401, FORBIDDEN: 403, NOT_FOUND: 404, METHOD_NOT_ALLOWED: 405, CONFLICT: 409,
  GONE: 410, PRECONDITION_FAILED: 412, PAYLOAD_TOO_LARGE: 413, UNSUPPORTED_MEDIA_TYPE: 415,
  UNPROCESSABLE_ENTITY: 422, TOO_MANY_REQUESTS: 429, INTERNAL_SERVER_ERROR: 500, BAD_GATEWAY: 502,
  SERVICE_UNAVAILABLE: 503,
};
const CODE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;

function rustFiles(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === "target" || name === "node_modules" || name.startsWith(".")) continue;
    if (statSync(path).isDirectory()) rustFiles(path, out);
    else if (name.endsWith(".rs")) out.push(path);
  }
  return out;
}

/** The source without comments and without its unit tests (`#[cfg(test)] mod tests { .. }` at the end). */
function code(text) {
  const cut = text.search(/^#\[cfg\(test\)\]\s*\n\s*mod tests\b/m);
  const body = cut >= 0 ? text.slice(0, cut) : text;
  return body
    .split("\n")
    .map((line) => (/^\s*\/\//.test(line) ? "" : line))
    .join("\n");
}

/** The body of `fn name(..) .. { .. }` (the braces balanced), or undefined. */
function fnBody(text, name) {
  const at = text.search(new RegExp(`\\bfn ${name}\\s*[(<]`));
  if (at < 0) return undefined;
  const open = text.indexOf("{", at);
  let depth = 0;
  for (let i = open; i < text.length; i += 1) {
    if (text[i] === "{") depth += 1;
    if (text[i] === "}") depth -= 1;
    if (depth === 0) return text.slice(open + 1, i);
  }
  return undefined;
}

/**
 * The arms of a match on `Self`: Map variant -> the arm's value when it is `StatusCode::NAME` (the
 * name) or a string literal (the string); other values (`code`, a call) are left out. Read arm
 * by arm from each `=>` (no backtracking regex over the body).
 */
function arms(body) {
  const found = new Map();
  let previous = 0;
  for (const m of body.matchAll(/=>\s*(?:\{\s*)?(?:StatusCode::(\w+)|"([^"]*)"|[^,\n]*)/g)) {
    const patterns = body.slice(previous, m.index);
    previous = m.index + m[0].length;
    const value = m[1] ?? m[2];
    if (value === undefined) continue;
    for (const v of patterns.matchAll(/Self::(\w+)/g)) if (!found.has(v[1])) found.set(v[1], value);
  }
  return found;
}

/**
 * The codes the sources can answer: Map code -> Set of statuses, and the declarations it could not
 * read (strings naming file and line).
 */
export function rustCodes(root) {
  const files = [...rustFiles(join(root, "shared")), ...rustFiles(join(root, "functions"))];
  const sources = new Map(files.map((f) => [f, code(readFileSync(f, "utf8"))]));
  const problemRs = [...sources.entries()].find(([, t]) => /\bpub fn code\(&self\)/.test(t) && /enum ApiError\b/.test(t));
  if (problemRs === undefined) throw new Error("no enum ApiError with `pub fn code(&self)` in shared/ or functions/");
  const [problemPath, problem] = problemRs;
  const unreadable = [];

  // Variant -> status, from `ApiError::status()`.
  const statusBody = fnBody(problem, "status");
  const variantStatus = new Map();
  for (const [variant, name] of arms(statusBody)) {
    if (!(name in STATUS)) unreadable.push(`${problemPath}: StatusCode::${name} has no number here`);
    variantStatus.set(variant, STATUS[name]);
  }
  // Constructor -> variant: `pub fn bad_request(code: &'static str, ..) -> Self { Self::BadRequest {`.
  const ctorVariant = new Map();
  for (const m of problem.matchAll(/pub fn (\w+)\(code: &'static str[^)]*\)\s*->\s*Self\s*\{\s*Self::(\w+)/g)) {
    ctorVariant.set(m[1], m[2]);
  }
  if (ctorVariant.size === 0) unreadable.push(`${problemPath}: no constructor taking a code`);

  const codes = new Map();
  const add = (c, status, where) => {
    if (!CODE.test(c)) unreadable.push(`${where}: "${c}" is no snake_case code`);
    if (status === undefined) unreadable.push(`${where}: no status for "${c}"`);
    if (!codes.has(c)) codes.set(c, new Set());
    codes.get(c).add(status);
  };
  const line = (text, index) => text.slice(0, index).split("\n").length;
  // Functions that answer codes from a match (`fn not_connected_code(p: Provider) -> &'static str`).
  const codeFns = new Map();
  for (const [path, text] of sources) {
    for (const m of text.matchAll(/fn (\w+)\([^)]*\)\s*->\s*&'static str\s*\{/g)) {
      const body = fnBody(text, m[1]);
      const literals = [...(body ?? "").matchAll(/=>\s*"([^"]*)"/g)].map((x) => x[1]);
      if (literals.length > 0) codeFns.set(m[1], { path, literals });
    }
  }

  const ctors = [...ctorVariant.keys()].join("|");
  const variantsWithCode = [...problem.matchAll(/^\s*(\w+)\s*\{\s*code:\s*&'static str/gm)].map((m) => m[1]);
  for (const [path, text] of sources) {
    const where = (i) => `${relative(root, path)}:${line(text, i)}`;
    // Constructors: `ApiError::conflict("code", ..)`.
    for (const m of text.matchAll(new RegExp(`(?:ApiError|Self)::(${ctors})\\(\\s*([^,)]*)`, "g"))) {
      const literal = /^"([^"]*)"$/.exec(m[2].trim());
      if (literal === null) unreadable.push(`${where(m.index)}: ${m[1]}(${m[2].trim()}, ..) - the code is no literal`);
      else add(literal[1], variantStatus.get(ctorVariant.get(m[1])), where(m.index));
    }
    // Variants with a `code` field: `ApiError::Gone { code: "code", .. }` or `code: some_fn(..)`.
    for (const m of text.matchAll(new RegExp(`ApiError::(${variantsWithCode.join("|")})\\s*\\{([^}]*)\\}`, "g"))) {
      const field = /\bcode\s*(?::\s*([^,]+))?(?:,|$)/.exec(m[2]);
      if (field === null) continue;
      const value = (field[1] ?? "").trim();
      const literal = /^"([^"]*)"$/.exec(value);
      const call = /^(\w+)\(/.exec(value);
      const status = variantStatus.get(m[1]);
      if (literal !== null) add(literal[1], status, where(m.index));
      else if (call !== null && codeFns.has(call[1])) {
        for (const c of codeFns.get(call[1]).literals) add(c, status, where(m.index));
      } else unreadable.push(`${where(m.index)}: ApiError::${m[1]} { code: ${value || "(shorthand)"} } - not a literal nor a code function`);
    }
  }

  // Fixed codes: the arms of `ApiError::code()` with a literal.
  const codeBody = fnBody(problem, "code");
  for (const [variant, c] of arms(codeBody)) add(c, variantStatus.get(variant), `${problemPath} code()`);
  // Quotas: `quota_code()` arms, 429 when `resets_daily()` names the quota, else 409.
  const quotaRs = [...sources.entries()].find(([, t]) => /\bfn resets_daily\(self\)/.test(t));
  const quotaFn = /Self::QuotaExceeded\([^)]*\)\s*=>\s*(\w+)\(/.exec(codeBody);
  if (quotaRs === undefined || quotaFn === null) {
    unreadable.push(`${problemPath}: the quota codes (QuotaExceeded's code function, Quota::resets_daily) not found`);
  } else {
    const daily = new Set([...fnBody(quotaRs[1], "resets_daily").matchAll(/Quota::(\w+)/g)].map((m) => m[1]));
    const quotaBody = fnBody(problem, quotaFn[1]);
    for (const m of quotaBody.matchAll(/Quota::(\w+)\s*=>\s*"([^"]*)"/g)) {
      add(m[2], daily.has(m[1]) ? 429 : 409, `${problemPath} ${quotaFn[1]}()`);
    }
  }
  return { codes, unreadable };
}

const resolve = (doc, node) => {
  let n = node;
  while (n && typeof n === "object" && typeof n.$ref === "string") {
    n = n.$ref
      .replace(/^#\//, "")
      .split("/")
      .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
      .reduce((o, k) => o?.[k], doc);
  }
  return n;
};

/** The catalogue check; returns the errors found and figures for the report. */
export function checkCatalogue(doc, root) {
  const errors = [];
  const { codes, unreadable } = rustCodes(root);
  errors.push(...unreadable.map((u) => `sources: ${u}`));
  const schema = doc.components.schemas.ProblemCode;
  const listed = new Set(schema.enum);
  const noOperation = schema["x-no-operation"] ?? {};
  for (const c of codes.keys()) if (!listed.has(c)) errors.push(`ProblemCode lacks "${c}" (the sources answer it: ${[...codes.get(c)].join(", ")})`);
  for (const c of listed) if (!codes.has(c)) errors.push(`ProblemCode lists "${c}", which no source declares`);
  for (const c of Object.keys(noOperation)) if (!listed.has(c)) errors.push(`x-no-operation names "${c}", not in the enum`);
  for (const c of listed) {
    const statuses = codes.get(c) ?? new Set();
    const row = new RegExp(`\\| \`${c}\` \\| (\\d{3}) \\|`).exec(schema.description);
    if (row === null) errors.push(`ProblemCode's table has no row for "${c}"`);
    else if (!statuses.has(Number(row[1]))) errors.push(`ProblemCode's table gives "${c}" ${row[1]}; the sources ${[...statuses].join(", ")}`);
    if (c in noOperation) continue;
    const example = doc.components.examples?.[c];
    if (example === undefined) {
      errors.push(`components/examples has no "${c}" (every code an operation answers has its example)`);
      continue;
    }
    const v = example.value;
    if (v.code !== c) errors.push(`examples/${c} has code "${v.code}"`);
    if (!statuses.has(v.status)) errors.push(`examples/${c} has status ${v.status}; the sources ${[...statuses].join(", ")}`);
    if (v.type !== `https://vivid.dev/problems/${c.replaceAll("_", "-")}`) errors.push(`examples/${c} has type ${v.type}`);
  }

  // Per operation: each problem example names a catalogued code under its own status.
  const answered = new Map();
  let operations = 0;
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!["get", "put", "post", "patch", "delete"].includes(method)) continue;
      operations += 1;
      const label = `${method.toUpperCase()} ${path}`;
      for (const [status, ref] of Object.entries(op.responses ?? {})) {
        const response = resolve(doc, ref);
        const media = response?.content?.["application/problem+json"];
        if (media === undefined) continue;
        const examples = Object.values(media.examples ?? {}).map((e) => resolve(doc, e));
        if (examples.length === 0) errors.push(`${label} ${status}: a problem response without the codes it answers (examples)`);
        for (const e of examples) {
          const c = e.value?.code;
          if (!listed.has(c)) errors.push(`${label} ${status}: "${c}" is not in ProblemCode`);
          else if (c in noOperation) errors.push(`${label} ${status}: "${c}" is marked x-no-operation`);
          if (status !== "default" && String(e.value?.status) !== status) errors.push(`${label} ${status}: example "${c}" has status ${e.value?.status}`);
          if (status === "default" && e.value?.status !== 500) errors.push(`${label} default: example "${c}" is no 500`);
          if (!answered.has(c)) answered.set(c, new Set());
          answered.get(c).add(label);
        }
      }
    }
  }
  for (const c of listed) if (!(c in noOperation) && !answered.has(c)) errors.push(`"${c}" is listed by no operation (list it, or give the reason in x-no-operation)`);
  return { errors, figures: { codes: listed.size, sourceCodes: codes.size, noOperation: Object.keys(noOperation).length, operations } };
}
