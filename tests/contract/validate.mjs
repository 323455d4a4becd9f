// Checks of docs/openapi.yaml beyond the linters (scripts/contract.sh):
//   1. every example validates against its schema (JSON Schema 2020-12, formats asserted):
//      schemas' own `examples`, parameters' and headers' `example`, and every media type's
//      `examples` (components/examples resolved) against that media type's schema;
//   2. every schema, operation, parameter, request body and answer with a body has an example,
//      every operation its tag, summary and description;
//   3. the error-code catalogue against the Rust sources (catalogue.mjs).
// Usage: node validate.mjs <repository root>. Prints the figures; exits 1 on any finding.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { parse } from "yaml";
import { checkCatalogue } from "./catalogue.mjs";

const root = process.argv[2] ?? join(import.meta.dirname, "..", "..");
const doc = parse(readFileSync(join(root, "docs", "openapi.yaml"), "utf8"));
const ID = "https://vivid.dev/openapi.json";

const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
addFormats(ajv);
ajv.addSchema({ ...doc, $id: ID });

const pointer = (parts) => "#/" + parts.map((p) => String(p).replace(/~/g, "~0").replace(/\//g, "~1")).join("/");
const at = (parts) => parts.reduce((o, k) => o?.[k], doc);
const resolveRef = (node) => {
  let n = node;
  let where;
  while (n && typeof n === "object" && typeof n.$ref === "string") {
    where = n.$ref.replace(/^#\//, "").split("/").map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
    n = at(where);
  }
  return { node: n, where };
};

const errors = [];
let validated = 0;
const compiled = new Map();
function check(schemaParts, value, what) {
  const key = pointer(schemaParts);
  if (!compiled.has(key)) compiled.set(key, ajv.compile({ $ref: ID + key }));
  const validate = compiled.get(key);
  validated += 1;
  if (!validate(value)) {
    const why = validate.errors.map((e) => `${e.instancePath || "(root)"} ${e.message}`).join("; ");
    errors.push(`${what}: does not validate against ${key}: ${why}`);
  }
}

// 1a. Named schemas: each has examples, each example validates.
for (const [name, schema] of Object.entries(doc.components.schemas)) {
  if (!Array.isArray(schema.examples) || schema.examples.length === 0) errors.push(`schema ${name} has no examples`);
  for (const [i, ex] of (schema.examples ?? []).entries()) check(["components", "schemas", name], ex, `schemas/${name} examples[${i}]`);
}

// Parameters and headers: `example` (or `examples`) against their schema.
function checkParameterLike(node, parts, what) {
  const { node: p, where } = resolveRef(node);
  const base = where ?? parts;
  if (p.example === undefined && p.examples === undefined) errors.push(`${what} has no example`);
  if (p.example !== undefined) check([...base, "schema"], p.example, `${what} example`);
  for (const [n, e] of Object.entries(p.examples ?? {})) check([...base, "schema"], resolveRef(e).node.value, `${what} examples.${n}`);
  if (!p.description) errors.push(`${what} has no description`);
}
for (const [name, h] of Object.entries(doc.components.headers ?? {})) checkParameterLike(h, ["components", "headers", name], `headers/${name}`);
for (const [name, p] of Object.entries(doc.components.parameters ?? {})) checkParameterLike(p, ["components", "parameters", name], `parameters/${name}`);

// Media types: every example (resolved) against the media type's schema.
function checkContent(content, parts, what, needExample) {
  for (const [type, media] of Object.entries(content ?? {})) {
    const examples = Object.entries(media.examples ?? {});
    if (media.example !== undefined) check([...parts, type, "schema"], media.example, `${what} ${type} example`);
    if (needExample && examples.length === 0 && media.example === undefined) errors.push(`${what} ${type} has no example`);
    for (const [n, e] of examples) {
      const value = resolveRef(e).node?.value;
      if (value === undefined) errors.push(`${what} ${type} examples.${n} has no value`);
      else check([...parts, type, "schema"], value, `${what} ${type} examples.${n}`);
    }
  }
}
function checkResponse(ref, parts, what) {
  const { node: r, where } = resolveRef(ref);
  const base = where ?? parts;
  if (!r.description) errors.push(`${what} has no description`);
  for (const [name, h] of Object.entries(r.headers ?? {})) checkParameterLike(h, [...base, "headers", name], `${what} header ${name}`);
  checkContent(r.content, [...base, "content"], what, true);
}

// 1b, 2. Operations.
const METHODS = ["get", "put", "post", "patch", "delete"];
let operations = 0;
const operationIds = new Set();
for (const [path, item] of Object.entries(doc.paths)) {
  for (const [i, p] of (item.parameters ?? []).entries()) checkParameterLike(p, ["paths", path, "parameters", i], `${path} parameter ${i}`);
  for (const method of METHODS) {
    const op = item[method];
    if (op === undefined) continue;
    operations += 1;
    const label = `${method.toUpperCase()} ${path}`;
    const parts = ["paths", path, method];
    for (const field of ["tags", "summary", "description", "operationId"]) if (!op[field]) errors.push(`${label} has no ${field}`);
    if (operationIds.has(op.operationId)) errors.push(`${label}: operationId ${op.operationId} twice`);
    operationIds.add(op.operationId);
    for (const [i, p] of (op.parameters ?? []).entries()) checkParameterLike(p, [...parts, "parameters", i], `${label} parameter ${i}`);
    if (op.requestBody) {
      const { node: body, where } = resolveRef(op.requestBody);
      for (const [type, media] of Object.entries(body.content)) {
        if (!media.schema?.$ref) errors.push(`${label} request ${type}: an unnamed schema (name it in components/schemas)`);
      }
      checkContent(body.content, [...(where ?? [...parts, "requestBody"]), "content"], `${label} request`, true);
    }
    for (const [status, r] of Object.entries(op.responses)) {
      checkResponse(r, [...parts, "responses", status], `${label} ${status}`);
      for (const [type, media] of Object.entries(resolveRef(r).node.content ?? {})) {
        if (!media.schema?.$ref) errors.push(`${label} ${status} ${type}: an unnamed schema (name it in components/schemas)`);
      }
    }
    for (const must of ["429", "503", "default"]) if (!(must in op.responses)) errors.push(`${label} does not declare ${must}`);
  }
}

// 3. The catalogue.
const catalogue = checkCatalogue(doc, root);
errors.push(...catalogue.errors);

for (const e of errors) console.error(`contract: ${e}`);
console.log(
  `contract: ${operations} operations, ${Object.keys(doc.components.schemas).length} schemas, ` +
    `${validated} examples validated, ${catalogue.figures.codes} codes in the catalogue ` +
    `(${catalogue.figures.sourceCodes} in the sources, ${catalogue.figures.noOperation} answered by no operation)` +
    (errors.length > 0 ? `: ${errors.length} findings` : ": all consistent"),
);
process.exit(errors.length > 0 ? 1 : 0);
