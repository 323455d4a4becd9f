// @ts-check
// The API's types, as tests/contract generates them from docs/openapi.yaml with
// openapi-typescript (scripts/contract.sh writes tests/contract/generated/api.d.ts, then checks
// every module of web/ against it with tsc --strict). The modules import these names only.

/** @import { components } from '../../tests/contract/generated/api' */

/** @typedef {components['schemas']} Schemas  every named schema of the document */
/** @typedef {keyof Schemas} SchemaName */

/**
 * One API answer as the page sees it: the status, the headers a page may read cross-origin (the
 * API exposes them), the body (JSON parsed; typed by the schema the caller named).
 * @template T
 * @typedef {object} Answer
 * @property {string} method
 * @property {string} path
 * @property {number} status
 * @property {T} body
 * @property {ReadableHeaders} headers
 */

/**
 * @typedef {object} ReadableHeaders
 * @property {string | null} etag
 * @property {string | null} location
 * @property {string} contentType
 * @property {string | null} cacheControl
 */

/**
 * A stroke of a drawing document (`{version: 1, strokes}`): points in the picture's fractions.
 * @typedef {object} Stroke
 * @property {string} color
 * @property {number} width
 * @property {Array<[number, number]>} points
 */

/** @typedef {{ version: 1, strokes: Stroke[] }} DrawingDocument */

export {};
