// @ts-check
// Spaces and uploads: spaces listed and created, a picked file sent straight to S3 with a
// presigned PUT or as a multipart upload (as the API's answer says) with a progress bar, the
// multipart progress surviving a reload (localStorage) and resumed from the parts S3 lists; then
// the video polled until READY, its transcoding progress shown. The resume record is the signed-in
// user's (keyed by the user id: session.js resumeKey; logout removes it).

/** @import { Answer, Schemas } from './types.js' */
import { $, api, el, isObject, ok, resumeKey, show } from './session.js';

export async function listSpaces() {
  return (await ok('SpaceList', 'GET', '/spaces')).body.items;
}

/** @param {string} name @param {string} [description] */
export async function createSpace(name, description = '') {
  /** @type {Schemas['NewSpace']} */
  const body = { name, description };
  const call = await ok('Space', 'POST', '/spaces', { body }, [201]);
  return { status: call.status, location: call.headers.location, space: call.body };
}

/** @param {string} spaceId */
export async function listVideos(spaceId) {
  return (await ok('VideoList', 'GET', `/spaces/${spaceId}/videos`)).body.items;
}

/** @param {string} inputId */
function pickedFile(inputId) {
  const files = el(inputId, HTMLInputElement).files;
  const file = files && files[0];
  if (!file) throw new Error(`pick a file in #${inputId} first`);
  return file;
}

/** The upload's progress bar: `sent` of `total` bytes. @param {number} sent @param {number} total */
function progress(sent, total) {
  const bar = $('upload-progress');
  if (bar instanceof HTMLProgressElement) {
    bar.max = total;
    bar.value = sent;
  }
  const label = $('upload-label');
  if (label) label.textContent = `${Math.floor((100 * sent) / Math.max(total, 1))} %`;
}

/**
 * @typedef {object} Put  what the browser saw of a PUT to S3
 * @property {number} status  0 when the browser refused or lost the request
 * @property {string | null} etag
 * @property {string} error
 */

/**
 * The bytes go straight to S3 with the presigned URL, never through the API. XMLHttpRequest, for
 * its upload progress (`onSent` with the bytes sent so far).
 * @param {string} url
 * @param {Blob} body
 * @param {Record<string, string>} [headers]
 * @param {(sent: number) => void} [onSent]
 * @returns {Promise<Put>}
 */
export function putToS3(url, body, headers = {}, onSent = () => {}) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => onSent(e.loaded);
    xhr.onload = () => {
      show(`PUT ${new URL(url).pathname} (${body.size} bytes) -> ${xhr.status}`);
      if (xhr.status === 200) onSent(body.size);
      // The ETag only where the bucket exposes it (reading a hidden header is a console error).
      const etag = /^etag:/im.test(xhr.getAllResponseHeaders()) ? xhr.getResponseHeader('etag') : null;
      resolve({ status: xhr.status, etag, error: xhr.responseText.slice(0, 500) });
    };
    // What a page sees of a CORS refusal or a dropped connection: no status at all.
    xhr.onerror = () => {
      show(`PUT ${new URL(url).pathname} failed`);
      resolve({ status: 0, etag: null, error: 'the browser refused or lost the request (CORS or network)' });
    };
    xhr.send(body);
  });
}

/** @param {string} spaceId @param {File} file @param {string} title */
async function createVideo(spaceId, file, title) {
  /** @type {Schemas['NewVideo']} */
  const body = { title, fileName: file.name, contentType: file.type || 'video/mp4', sizeBytes: file.size };
  return ok('CreatedVideo', 'POST', `/spaces/${spaceId}/videos`, { body }, [201]);
}

/**
 * One file, uploaded the way the API's answer says: one presigned PUT or parts.
 * @param {string} spaceId
 * @param {string} inputId
 * @param {string} title
 */
export async function upload(spaceId, inputId, title) {
  const file = pickedFile(inputId);
  const created = await createVideo(spaceId, file, title);
  return created.body.upload.kind === 'single' ? sendSingle(created, file) : sendMultipart(created, file);
}

/** @param {string} spaceId @param {string} inputId @param {string} title */
export async function uploadSingle(spaceId, inputId, title) {
  const file = pickedFile(inputId);
  return sendSingle(await createVideo(spaceId, file, title), file);
}

/** @param {Answer<Schemas['CreatedVideo']>} created @param {File} file */
async function sendSingle(created, file) {
  const upload = created.body.upload;
  if (upload.kind !== 'single') return { video: created.body, upload, error: 'the API asked for a multipart upload' };
  progress(0, file.size);
  const put = await putToS3(upload.url, file, upload.headers || {}, (sent) => progress(sent, file.size));
  return { video: created.body, location: created.headers.location, upload, put };
}

/**
 * What a reload needs to resume a multipart upload (the file is picked again).
 * @typedef {object} Pending
 * @property {string} videoId
 * @property {string} fileName
 * @property {number} size
 * @property {number} lastModified
 * @property {number} partSize
 * @property {number} parts
 * @property {Record<string, string>} etags  part number to ETag
 */

/** @param {Pending} record */
function remember(record) {
  const key = resumeKey();
  if (key) localStorage.setItem(key, JSON.stringify(record));
}

// Multipart: create, remember what is needed to resume, PUT each part keeping its ETag, complete.
/** @param {string} spaceId @param {string} inputId @param {string} title */
export async function startMultipart(spaceId, inputId, title) {
  const file = pickedFile(inputId);
  return sendMultipart(await createVideo(spaceId, file, title), file);
}

/** @param {Answer<Schemas['CreatedVideo']>} created @param {File} file */
async function sendMultipart(created, file) {
  const upload = created.body.upload;
  if (upload.kind !== 'multipart') return { video: created.body, upload, error: 'not multipart' };
  /** @type {Pending} */
  const record = {
    videoId: created.body.videoId,
    fileName: file.name,
    size: file.size,
    lastModified: file.lastModified,
    partSize: upload.partSize,
    parts: upload.parts.length,
    etags: {},
  };
  remember(record);
  /** @type {{video: Schemas['Video'], upload: object, puts: Array<Put & {partNumber: number}>, interrupted?: string, complete?: unknown}} */
  const result = { video: created.body, upload: { ...upload, parts: upload.parts.length }, puts: [] };
  try {
    for (const part of upload.parts) {
      const put = await putPart(file, record, part);
      result.puts.push(put);
      if (put.status !== 200) throw new Error(`part ${part.partNumber}: ${put.status}`);
    }
  } catch (e) {
    // A dropped connection: the page says so; a reload resumes.
    show(`upload interrupted: ${e instanceof Error ? e.message : e}`);
    result.interrupted = String(e instanceof Error ? e.message : e);
    return result;
  }
  result.complete = await completeMultipart(record);
  return result;
}

/** @param {Pending} record */
const sentBefore = (record) =>
  Object.keys(record.etags).reduce((n, k) => n + Math.min(record.partSize, record.size - (Number(k) - 1) * record.partSize), 0);

/** @param {File} file @param {Pending} record @param {Schemas['PartUrl']} part */
async function putPart(file, record, part) {
  const start = (part.partNumber - 1) * record.partSize;
  const blob = file.slice(start, Math.min(start + record.partSize, file.size));
  const before = sentBefore(record);
  const put = await putToS3(part.url, blob, {}, (sent) => progress(before + sent, record.size));
  if (put.status === 200) {
    if (!put.etag) throw new Error('the part PUT answered without a readable ETag (S3 CORS must expose it)');
    record.etags[part.partNumber] = put.etag;
    remember(record);
  }
  return { partNumber: part.partNumber, ...put };
}

/** @param {Pending} record */
async function completeMultipart(record) {
  const parts = Object.entries(record.etags)
    .map(([n, etag]) => ({ partNumber: Number(n), etag }))
    .sort((a, b) => a.partNumber - b.partNumber);
  /** @type {Schemas['CompleteUpload']} */
  const body = { parts };
  const call = await api('POST', `/videos/${record.videoId}/upload/complete`, { body });
  const key = resumeKey();
  if (call.status < 300 && key) localStorage.removeItem(key);
  return { status: call.status, body: call.body };
}

/** @param {unknown} n @returns {n is number} */
const count = (n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/**
 * The signed-in user's unfinished multipart upload, if the browser remembers one that reads as a
 * Pending record (anything else stored there is dropped).
 * @returns {Pending | null}
 */
export function pendingUpload() {
  const key = resumeKey();
  const raw = key ? localStorage.getItem(key) : null;
  if (!key || !raw) return null;
  /** @type {unknown} */
  let v = null;
  try {
    v = JSON.parse(raw);
  } catch {
    v = null;
  }
  if (!isObject(v) || !isObject(v['etags'])) {
    localStorage.removeItem(key);
    return null;
  }
  const { videoId, fileName, size, lastModified, partSize, parts } = v;
  /** @type {Record<string, string>} */
  const etags = {};
  for (const [n, etag] of Object.entries(v['etags'])) {
    if (/^[1-9][0-9]*$/.test(n) && typeof etag === 'string') etags[n] = etag;
  }
  const wellFormed = Object.keys(etags).length === Object.keys(v['etags']).length;
  if (!wellFormed || typeof videoId !== 'string' || typeof fileName !== 'string' || !count(size) || !count(lastModified) || !count(partSize) || !count(parts) || partSize === 0) {
    localStorage.removeItem(key);
    return null;
  }
  return { videoId, fileName, size, lastModified, partSize, parts, etags };
}

// After a reload: ask the API which parts S3 has and for fresh URLs, upload the rest.
/** @param {string} inputId */
export async function resumeMultipart(inputId) {
  const record = pendingUpload();
  if (!record) throw new Error('no upload to resume');
  const file = pickedFile(inputId);
  if (file.name !== record.fileName || file.size !== record.size || file.lastModified !== record.lastModified) {
    throw new Error('that is not the file whose upload was interrupted');
  }
  const all = Array.from({ length: record.parts }, (_, i) => i + 1);
  /** @type {Schemas['PartsRequest']} */
  const ask = { partNumbers: all };
  const b = (await ok('UploadResume', 'POST', `/videos/${record.videoId}/upload/parts`, { body: ask })).body;
  /** @param {number} n */
  const expectedSize = (n) => Math.min(record.partSize, record.size - (n - 1) * record.partSize);
  const have = new Map();
  for (const p of b.uploadedParts) {
    if (p.size === expectedSize(p.partNumber)) have.set(p.partNumber, p.etag);
  }
  record.etags = {};
  for (const [n, etag] of have) record.etags[n] = etag;
  /** @type {{listing: object, skipped: number[], puts: Array<Put & {partNumber: number}>, error?: string, complete?: unknown}} */
  const result = { listing: { ...b, parts: b.parts.map((p) => p.partNumber) }, skipped: [...have.keys()].sort(), puts: [] };
  for (const part of b.parts) {
    if (have.has(part.partNumber)) continue;
    const put = await putPart(file, record, part);
    result.puts.push(put);
    if (put.status !== 200) return { ...result, error: `part ${part.partNumber}: ${put.status}` };
  }
  result.complete = await completeMultipart(record);
  return result;
}

/**
 * Polls GET /videos/{id} until READY or FAILED, the transcoding progress on its bar.
 * @param {string} videoId
 * @param {number} [timeoutMs]
 */
export async function waitReady(videoId, timeoutMs = 90000) {
  /** @type {Array<{status: Schemas['VideoStatus'], percentComplete: number | null}>} */
  const seen = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = (await ok('Video', 'GET', `/videos/${videoId}`)).body;
    const last = seen[seen.length - 1];
    const percent = v.percentComplete ?? null;
    if (!last || last.status !== v.status || last.percentComplete !== percent) {
      seen.push({ status: v.status, percentComplete: percent });
      show(`video ${videoId}: ${v.status} ${percent ?? ''}`);
      const bar = $('transcode-progress');
      if (bar instanceof HTMLProgressElement) bar.value = v.status === 'READY' ? 100 : (percent ?? 0);
      const label = $('transcode-label');
      if (label) label.textContent = `${v.status}${percent === null ? '' : ` ${percent} %`}`;
    }
    if (v.status === 'READY' || v.status === 'FAILED') return { seen, video: v };
    if (Date.now() > deadline) return { seen, video: v, timedOut: true };
    await new Promise((r) => setTimeout(r, 500));
  }
}
