// Spaces and uploads: a space created, a picked file sent straight to S3 with a presigned PUT or
// as a multipart upload whose progress survives a reload (localStorage), resumed from the parts S3
// lists; then the video polled until READY.

import { $, api, ok, show } from './session.js';

const RESUME_KEY = 'vivid.multipart';

export async function createSpace(name) {
  const call = await ok('POST', '/spaces', { body: { name, description: 'Made by the browser test' } }, [201]);
  return { status: call.status, location: call.headers.location, space: call.body };
}

function pickedFile(inputId) {
  const input = $(inputId);
  if (!input.files || !input.files.length) throw new Error(`pick a file in #${inputId} first`);
  return input.files[0];
}

// The bytes go straight to S3 with the presigned URL: never through the API.
export async function putToS3(url, body, headers = {}) {
  let resp;
  try {
    resp = await fetch(url, { method: 'PUT', body, headers, credentials: 'omit', mode: 'cors' });
  } catch (e) {
    // What a page sees of a CORS refusal or a dropped connection: no status at all.
    show(`PUT ${new URL(url).pathname} failed: ${e.message}`);
    return { status: 0, etag: null, error: `the browser refused or lost the request (CORS or network): ${e.message}` };
  }
  const text = await resp.text();
  show(`PUT ${new URL(url).pathname} (${body.size} bytes) -> ${resp.status}`);
  return { status: resp.status, etag: resp.headers.get('etag'), error: text.slice(0, 500) };
}

export async function uploadSingle(spaceId, inputId, title) {
  const file = pickedFile(inputId);
  const created = await ok(
    'POST',
    `/spaces/${spaceId}/videos`,
    { body: { title, fileName: file.name, contentType: file.type || 'video/mp4', sizeBytes: file.size } },
    [201],
  );
  const upload = created.body.upload;
  const put = await putToS3(upload.url, file, upload.headers || {});
  return { video: created.body, location: created.headers.location, upload, put };
}

// Multipart: create, remember what is needed to resume (the file is picked again after a
// reload), PUT each part keeping its ETag, complete.
export async function startMultipart(spaceId, inputId, title) {
  const file = pickedFile(inputId);
  const created = await ok(
    'POST',
    `/spaces/${spaceId}/videos`,
    { body: { title, fileName: file.name, contentType: file.type || 'video/mp4', sizeBytes: file.size } },
    [201],
  );
  const upload = created.body.upload;
  if (upload.kind !== 'multipart') return { video: created.body, upload, error: 'not multipart' };
  const record = {
    videoId: created.body.videoId,
    fileName: file.name,
    size: file.size,
    lastModified: file.lastModified,
    partSize: upload.partSize,
    parts: upload.parts.length,
    etags: {},
  };
  localStorage.setItem(RESUME_KEY, JSON.stringify(record));
  const result = { video: created.body, upload: { ...upload, parts: upload.parts.length }, puts: [] };
  try {
    for (const part of upload.parts) {
      const put = await putPart(file, record, part);
      result.puts.push(put);
      if (put.status !== 200) throw new Error(`part ${part.partNumber}: ${put.status}`);
    }
  } catch (e) {
    // A dropped connection: the page says so; a reload resumes.
    show(`upload interrupted: ${e.message}`);
    result.interrupted = String(e.message || e);
    return result;
  }
  result.complete = await completeMultipart(record);
  return result;
}

async function putPart(file, record, part) {
  const start = (part.partNumber - 1) * record.partSize;
  const blob = file.slice(start, Math.min(start + record.partSize, file.size));
  const put = await putToS3(part.url, blob);
  if (put.status === 200) {
    if (!put.etag) throw new Error('the part PUT answered without a readable ETag (S3 CORS must expose it)');
    record.etags[part.partNumber] = put.etag;
    localStorage.setItem(RESUME_KEY, JSON.stringify(record));
  }
  return { partNumber: part.partNumber, ...put };
}

async function completeMultipart(record) {
  const parts = Object.entries(record.etags)
    .map(([n, etag]) => ({ partNumber: Number(n), etag }))
    .sort((a, b) => a.partNumber - b.partNumber);
  const call = await api('POST', `/videos/${record.videoId}/upload/complete`, { body: { parts } });
  if (call.status < 300) localStorage.removeItem(RESUME_KEY);
  return { status: call.status, body: call.body };
}

export function pendingUpload() {
  const raw = localStorage.getItem(RESUME_KEY);
  return raw ? JSON.parse(raw) : null;
}

// After a reload: ask the API which parts S3 has and for fresh URLs, upload the rest.
export async function resumeMultipart(inputId) {
  const record = pendingUpload();
  if (!record) throw new Error('no upload to resume');
  const file = pickedFile(inputId);
  if (file.name !== record.fileName || file.size !== record.size || file.lastModified !== record.lastModified) {
    throw new Error('that is not the file whose upload was interrupted');
  }
  const all = Array.from({ length: record.parts }, (_, i) => i + 1);
  const listed = await ok('POST', `/videos/${record.videoId}/upload/parts`, { body: { partNumbers: all } });
  const b = listed.body;
  const expectedSize = (n) => Math.min(record.partSize, record.size - (n - 1) * record.partSize);
  const have = new Map();
  for (const p of b.uploadedParts || []) {
    if (p.size === expectedSize(p.partNumber)) have.set(p.partNumber, p.etag);
  }
  record.etags = {};
  for (const [n, etag] of have) record.etags[n] = etag;
  const result = {
    listing: { ...b, parts: (b.parts || []).map((p) => p.partNumber) },
    skipped: [...have.keys()].sort(),
    puts: [],
  };
  for (const part of b.parts || []) {
    if (have.has(part.partNumber)) continue;
    const put = await putPart(file, record, part);
    result.puts.push(put);
    if (put.status !== 200) return { ...result, error: `part ${part.partNumber}: ${put.status}` };
  }
  result.complete = await completeMultipart(record);
  return result;
}

export async function waitReady(videoId, timeoutMs = 90000) {
  const seen = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const call = await ok('GET', `/videos/${videoId}`);
    const v = call.body;
    const last = seen[seen.length - 1];
    if (!last || last.status !== v.status || last.percentComplete !== v.percentComplete) {
      seen.push({ status: v.status, percentComplete: v.percentComplete });
      show(`video ${videoId}: ${v.status} ${v.percentComplete ?? ''}`);
    }
    if (v.status === 'READY' || v.status === 'FAILED') return { seen, video: v };
    if (Date.now() > deadline) return { seen, video: v, timedOut: true };
    await new Promise((r) => setTimeout(r, 500));
  }
}
