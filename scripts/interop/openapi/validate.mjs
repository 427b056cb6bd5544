// validate.mjs checks an OpenAPI document (fleetwire serves cloud/api/openapi.json
// at /v1/openapi.json) with an independent validator, the npm package
// "@seriousme/openapi-schema-validator": the document must match the official
// OpenAPI JSON Schema of the version it declares (2.0, 3.0, 3.1 or 3.2), and
// every local $ref must resolve.
//
// The official 3.1 and 3.2 schemas accept any object or boolean as a Schema
// Object (its dialect is JSON Schema 2020-12, which they leave to a JSON
// Schema validator), so for those versions each Schema Object is also checked
// against the JSON Schema 2020-12 meta-schema with ajv (unless the document
// names another jsonSchemaDialect).
//
// The document is read, as JSON, from the file named by the only argument, or
// from standard input. The answer is one line: {"ok": true} or
// {"ok": false, "errors": [...]}. The exit status is 0 when the document was
// read and checked (an invalid document is still an answer), and 1 when it
// could not be read or is not JSON.
//
//   npm ci && node validate.mjs ../../../cloud/api/openapi.json

import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";

const defaultDialects = new Set([
  undefined,
  "https://spec.openapis.org/oas/3.1/dialect/base",
  "https://spec.openapis.org/oas/3.2/dialect/2025-09-17",
  "https://json-schema.org/draft/2020-12/schema",
]);

function answer(res, status) {
  process.stdout.write(`${JSON.stringify(res)}\n`);
  process.exitCode = status;
}

// pointer appends a JSON Pointer token to path.
const pointer = (path, token) => `${path}/${String(token).replace(/~/g, "~0").replace(/\//g, "~1")}`;

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

// schemaObjects returns [path, schema] for every Schema Object the document
// places directly (in components and in path items, their operations,
// parameters, request bodies, responses, headers and media types; callbacks
// and webhooks included). $ref objects are left to the validator's own
// reference check.
function schemaObjects(doc) {
  const found = [];
  const schema = (path, s) => {
    if (s !== undefined) found.push([path, s]);
  };
  const skip = (v) => !isObject(v) || typeof v.$ref === "string";
  const content = (path, c) => {
    if (!isObject(c)) return;
    for (const [type, media] of Object.entries(c)) {
      if (skip(media)) continue;
      const p = pointer(path, type);
      schema(pointer(p, "schema"), media.schema);
      schema(pointer(p, "itemSchema"), media.itemSchema);
      if (isObject(media.encoding)) {
        for (const [name, enc] of Object.entries(media.encoding)) {
          if (isObject(enc)) headers(pointer(pointer(pointer(p, "encoding"), name), "headers"), enc.headers);
        }
      }
    }
  };
  const header = (path, h) => {
    if (skip(h)) return;
    schema(pointer(path, "schema"), h.schema);
    content(pointer(path, "content"), h.content);
  };
  const headers = (path, hs) => {
    if (!isObject(hs)) return;
    for (const [name, h] of Object.entries(hs)) header(pointer(path, name), h);
  };
  const parameter = header; // same shape as far as schemas go
  const parameters = (path, ps) => {
    if (!Array.isArray(ps)) return;
    ps.forEach((p, i) => parameter(pointer(path, i), p));
  };
  const requestBody = (path, b) => {
    if (!skip(b)) content(pointer(path, "content"), b.content);
  };
  const response = (path, r) => {
    if (skip(r)) return;
    headers(pointer(path, "headers"), r.headers);
    content(pointer(path, "content"), r.content);
  };
  const pathItems = (path, items) => {
    if (!isObject(items)) return;
    for (const [name, item] of Object.entries(items)) pathItem(pointer(path, name), item);
  };
  const methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace", "query"];
  const operation = (path, op) => {
    if (!isObject(op)) return;
    parameters(pointer(path, "parameters"), op.parameters);
    requestBody(pointer(path, "requestBody"), op.requestBody);
    if (isObject(op.responses)) {
      for (const [code, r] of Object.entries(op.responses)) response(pointer(pointer(path, "responses"), code), r);
    }
    if (isObject(op.callbacks)) {
      for (const [name, cb] of Object.entries(op.callbacks)) {
        if (!skip(cb)) pathItems(pointer(pointer(path, "callbacks"), name), cb);
      }
    }
  };
  function pathItem(path, item) {
    if (skip(item)) return;
    parameters(pointer(path, "parameters"), item.parameters);
    for (const m of methods) operation(pointer(path, m), item[m]);
    if (isObject(item.additionalOperations)) {
      for (const [m, op] of Object.entries(item.additionalOperations)) {
        operation(pointer(pointer(path, "additionalOperations"), m), op);
      }
    }
  }

  pathItems("#/paths", doc.paths);
  pathItems("#/webhooks", doc.webhooks);
  const comp = isObject(doc.components) ? doc.components : {};
  const each = (kind, visit) => {
    if (!isObject(comp[kind])) return;
    for (const [name, v] of Object.entries(comp[kind])) visit(pointer(pointer("#/components", kind), name), v);
  };
  each("schemas", schema);
  each("parameters", parameter);
  each("headers", header);
  each("requestBodies", requestBody);
  each("responses", response);
  each("pathItems", pathItem);
  each("callbacks", (p, cb) => {
    if (!skip(cb)) pathItems(p, cb);
  });
  each("mediaTypes", (p, media) => content(p.slice(0, p.lastIndexOf("/")), { [p.slice(p.lastIndexOf("/") + 1)]: media }));
  return found;
}

function formatError(e, prefix = "#") {
  if (typeof e === "string") return e;
  const at = prefix + (e.instancePath || "");
  const params = e.params && Object.keys(e.params).length > 0 ? ` ${JSON.stringify(e.params)}` : "";
  return `${at}: ${e.message}${params} (schema ${e.schemaPath})`;
}

let doc;
try {
  const args = process.argv.slice(2);
  if (args.length > 1) throw new Error("usage: node validate.mjs [file.json] (or the document on stdin)");
  doc = JSON.parse(readFileSync(args.length === 1 ? args[0] : 0, "utf8"));
} catch (err) {
  answer({ ok: false, errors: [`cannot read the document: ${err.message}`] }, 1);
}

if (doc !== undefined) {
  try {
    const errors = [];
    if (!isObject(doc)) {
      errors.push("the document is not a JSON object");
    } else {
      const validator = new Validator({ allErrors: true });
      const res = await validator.validate(doc);
      if (!res.valid) {
        errors.push(...(Array.isArray(res.errors) ? res.errors : [res.errors]).map((e) => formatError(e)));
      }
      if ((validator.version === "3.1" || validator.version === "3.2") && defaultDialects.has(doc.jsonSchemaDialect)) {
        const ajv = new Ajv2020({ strict: false, allErrors: true });
        for (const [path, s] of schemaObjects(doc)) {
          if (!ajv.validateSchema(s)) {
            errors.push(...ajv.errors.map((e) => `Schema Object ${formatError(e, path)}`));
          }
        }
      }
    }
    answer(errors.length === 0 ? { ok: true } : { ok: false, errors }, 0);
  } catch (err) {
    answer({ ok: false, errors: [`validator failed: ${err.stack || err.message}`] }, 1);
  }
}
