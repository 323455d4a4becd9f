// Notes on a video: the text memo saved conditionally (If-Match / If-None-Match), and a snapshot
// of the current frame uploaded with the presigned PUT, listed and read back.

import { $, api, ok } from './session.js';
import { putToS3 } from './uploads.js';

// Read, then save conditionally on the version the ETag gave; a stale save is refused.
export async function saveMemo(videoId, text) {
  const read = await ok('GET', `/videos/${videoId}/text-memo`);
  if (!read.headers.etag) throw new Error('GET text-memo: no readable ETag (CORS must expose it)');
  const stateJson = JSON.stringify({ root: { type: 'root', children: [{ type: 'paragraph', text }] } });
  const videoTime = Math.round($('video').currentTime * 1000) / 1000;
  const first = await api('PUT', `/videos/${videoId}/text-memo`, {
    body: { stateJson, videoTime },
    headers: { 'if-match': read.headers.etag },
  });
  const second = await api('PUT', `/videos/${videoId}/text-memo`, {
    body: { stateJson: stateJson.replace(text, `${text} (edited)`), videoTime },
    headers: { 'if-match': first.headers.etag },
  });
  const stale = await api('PUT', `/videos/${videoId}/text-memo`, {
    body: { stateJson, videoTime },
    headers: { 'if-match': first.headers.etag },
  });
  const createOnly = await api('PUT', `/videos/${videoId}/text-memo`, {
    body: { stateJson, videoTime },
    headers: { 'if-none-match': '*' },
  });
  const any = await api('PUT', `/videos/${videoId}/text-memo`, {
    body: { stateJson: stateJson.replace(text, `${text} (final)`), videoTime },
    headers: { 'if-match': '*' },
  });
  const final = await ok('GET', `/videos/${videoId}/text-memo`);
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

// The current frame as a PNG, uploaded with the presigned PUT, then listed and read back.
export async function snapshot(videoId) {
  const video = $('video');
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext('2d').drawImage(video, 0, 0);
  const blob = await new Promise((r) => canvas.toBlob(r, 'image/png'));
  const videoSeconds = Math.round(video.currentTime * 1000) / 1000;
  const created = await ok('POST', `/videos/${videoId}/snapshots`, { body: { videoSeconds, contentType: 'image/png', sizeBytes: blob.size } }, [201]);
  const up = created.body.upload;
  const put = await putToS3(up.url, blob, up.headers || {});
  const list = await ok('GET', `/videos/${videoId}/snapshots`);
  const item = (list.body.items || []).find((s) => s.snapshotId === created.body.snapshotId);
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
    const img = $('snapshot');
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
