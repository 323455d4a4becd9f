// @ts-check
// Notes on a video: the text memo saved conditionally (If-Match / If-None-Match) and its history
// (checkpoints), a snapshot of the current frame uploaded with the presigned PUT, listed and read
// back, and bookmarks at moments of the video.

/** @import { Schemas } from './types.js' */
import { api, el, ok } from './session.js';
import { putToS3 } from './uploads.js';

/** The memo's version the page last read (its ETag), per video. */
const memoEtags = new Map();

/** The memo's state as the page stores it (one paragraph of text). @param {string} text */
const memoState = (text) => JSON.stringify({ root: { type: 'root', children: [{ type: 'paragraph', text }] } });

/** The text of a stored memo state, or the state itself when it is not the page's. @param {string | null} stateJson */
export function memoText(stateJson) {
  if (!stateJson) return '';
  try {
    /** @type {unknown} */
    const parsed = JSON.parse(stateJson);
    const text = parsed && typeof parsed === 'object' && 'root' in parsed && parsed.root && typeof parsed.root === 'object'
      && 'children' in parsed.root && Array.isArray(parsed.root.children)
      ? parsed.root.children.map((c) => (c && typeof c === 'object' && 'text' in c ? String(c.text) : '')).join('\n')
      : stateJson;
    return text;
  } catch {
    return stateJson;
  }
}

const now = () => Math.round(el('video', HTMLVideoElement).currentTime * 1000) / 1000;

/** Reads the memo (and remembers its version). @param {string} videoId */
export async function readMemo(videoId) {
  const read = await ok('Memo', 'GET', `/videos/${videoId}/text-memo`);
  memoEtags.set(videoId, read.headers.etag);
  return { memo: read.body, text: memoText(read.body.stateJson) };
}

/**
 * Saves the memo over the version last read; 412 when someone saved since (read again).
 * @param {string} videoId
 * @param {string} text
 */
export async function writeMemo(videoId, text) {
  /** @type {Schemas['MemoSave']} */
  const body = { stateJson: memoState(text), videoTime: now() };
  const etag = memoEtags.get(videoId);
  const call = await api('PUT', `/videos/${videoId}/text-memo`, { body, headers: etag ? { 'if-match': etag } : { 'if-none-match': '*' } });
  if (call.status < 300) memoEtags.set(videoId, call.headers.etag);
  return { status: call.status, etag: call.headers.etag, body: call.body };
}

// Read, then save conditionally on the version the ETag gave; a stale save is refused.
/** @param {string} videoId @param {string} text */
export async function saveMemo(videoId, text) {
  const read = await ok('Memo', 'GET', `/videos/${videoId}/text-memo`);
  if (!read.headers.etag) throw new Error('GET text-memo: no readable ETag (CORS must expose it)');
  const stateJson = memoState(text);
  const videoTime = now();
  /** @param {string} s @param {Record<string, string>} headers */
  const put = (s, headers) => api('PUT', `/videos/${videoId}/text-memo`, { body: { stateJson: s, videoTime }, headers });
  const first = await put(stateJson, { 'if-match': read.headers.etag });
  const second = await put(stateJson.replace(text, `${text} (edited)`), { 'if-match': first.headers.etag || '' });
  const stale = await put(stateJson, { 'if-match': first.headers.etag || '' });
  const createOnly = await put(stateJson, { 'if-none-match': '*' });
  const any = await put(stateJson.replace(text, `${text} (final)`), { 'if-match': '*' });
  const final = await ok('Memo', 'GET', `/videos/${videoId}/text-memo`);
  memoEtags.set(videoId, final.headers.etag);
  /** @param {import('./types.js').Answer<unknown>} c */
  const brief = (c) => ({ status: c.status, etag: c.headers.etag, contentType: c.headers.contentType, body: c.body });
  return {
    read: brief(read),
    first: brief(first),
    second: brief(second),
    stale: brief(stale),
    createOnly: brief(createOnly),
    any: brief(any),
    final: brief(final),
  };
}

/** The memo's checkpoints, newest first. @param {string} videoId */
export async function memoHistory(videoId) {
  return (await ok('CheckpointList', 'GET', `/videos/${videoId}/text-memo/history`)).body.items;
}

/** Keeps the memo as it is now among its checkpoints. @param {string} videoId */
export async function checkpointMemo(videoId) {
  const call = await ok('Checkpoint', 'POST', `/videos/${videoId}/text-memo/history`, {}, [200, 201]);
  return { status: call.status, checkpoint: call.body };
}

// The current frame as a PNG, uploaded with the presigned PUT, then listed and read back.
/** @param {string} videoId */
export async function snapshot(videoId) {
  const video = el('video', HTMLVideoElement);
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  const g = canvas.getContext('2d');
  if (!g) throw new Error('no 2D canvas');
  g.drawImage(video, 0, 0);
  /** @type {Blob | null} */
  const blob = await new Promise((r) => canvas.toBlob(r, 'image/png'));
  if (!blob) throw new Error('the frame could not be encoded');
  /** @type {Schemas['NewSnapshot']} */
  const body = { videoSeconds: now(), contentType: 'image/png', sizeBytes: blob.size };
  const created = await ok('CreatedSnapshot', 'POST', `/videos/${videoId}/snapshots`, { body }, [201]);
  const up = created.body.upload;
  const put = await putToS3(up.url, blob, up.headers || {});
  const list = await ok('SnapshotList', 'GET', `/videos/${videoId}/snapshots`);
  const item = list.body.items.find((s) => s.snapshotId === created.body.snapshotId);
  /** @type {{status: number, contentType: string | null, size: number, same: boolean, imageWidth?: number} | null} */
  let readBack = null;
  if (item && item.url) {
    const resp = await fetch(item.url, { credentials: 'omit' });
    const bytes = new Uint8Array(await resp.arrayBuffer());
    const sent = new Uint8Array(await blob.arrayBuffer());
    readBack = {
      status: resp.status,
      contentType: resp.headers.get('content-type'),
      size: bytes.length,
      same: bytes.length === sent.length && bytes.every((b, i) => b === sent[i]),
    };
    const img = el('snapshot', HTMLImageElement);
    img.src = item.url;
    await img.decode().catch(() => {});
    readBack.imageWidth = img.naturalWidth;
  }
  return {
    created: { status: created.status, location: created.headers.location, body: created.body },
    put,
    size: blob.size,
    frameWidth: canvas.width,
    item,
    readBack,
  };
}

/** @param {string} videoId */
export async function listSnapshots(videoId) {
  return (await ok('SnapshotList', 'GET', `/videos/${videoId}/snapshots`)).body.items;
}

/** A bookmark at the player's current time. @param {string} videoId @param {string} label */
export async function addBookmark(videoId, label) {
  /** @type {Schemas['NewBookmark']} */
  const body = { videoSeconds: now(), label };
  const call = await ok('Bookmark', 'POST', `/videos/${videoId}/bookmarks`, { body }, [201]);
  return { status: call.status, bookmark: call.body };
}

/** @param {string} videoId */
export async function listBookmarks(videoId) {
  return (await ok('BookmarkList', 'GET', `/videos/${videoId}/bookmarks`)).body.items;
}

/** Searches a space's lectures (titles, chapters, transcripts, notes). @param {string} spaceId @param {string} q */
export async function search(spaceId, q) {
  return (await ok('SearchResult', 'GET', `/spaces/${spaceId}/search?q=${encodeURIComponent(q)}`)).body;
}
