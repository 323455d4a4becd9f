// The VIVID study client of the browser test: what a web front end on its own origin does with
// the API, in plain JS. tests/browser/run.py drives it in Chromium and asserts each step; every
// function returns plain data (what the page saw: statuses, readable headers, bodies) for that.
//
// The access token lives in memory only: a page load (or reload) gets one from the refresh
// cookie (`POST /auth/refresh` with credentials), as a real single-page app does.
'use strict';

(function () {
  const API = window.VIVID_CONFIG.api;
  const RESUME_KEY = 'vivid.multipart';

  const state = {
    token: null,
    tokenExpiresAt: 0,
    refreshes: [], // what each refresh answered
    calls: [], // every API call: method, path, status
    hls: null,
    playback: null, // the current playback grant
    overlay: null, // {startSeconds, endSeconds, document}
  };
  window.vividState = state;

  const $ = (id) => document.getElementById(id);

  function show(text) {
    const line = `${new Date().toISOString().slice(11, 23)} ${text}`;
    console.log(`[vivid] ${line}`);
    const log = $('log');
    if (log) log.textContent += line + '\n';
  }

  class ApiError extends Error {
    constructor(call) {
      const p = call.body && typeof call.body === 'object' ? call.body : {};
      super(`${call.method} ${call.path} -> ${call.status}: ${p.code || ''} ${p.detail || p.title || p.message || ''}`);
      this.call = call;
    }
  }

  // One request to the API, as fetch sees it: status, the headers a page may read, the body.
  async function send(method, path, { body, headers = {}, token, credentials = 'omit' } = {}) {
    const h = { ...headers };
    if (token) h.authorization = `Bearer ${token}`;
    let payload;
    if (body !== undefined) {
      h['content-type'] = h['content-type'] || 'application/json';
      payload = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const resp = await fetch(API + path, { method, headers: h, body: payload, credentials, cache: 'no-store' });
    const text = await resp.text();
    let parsed = text;
    const type = resp.headers.get('content-type') || '';
    if (text && type.includes('json')) {
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        parsed = { unparsable: text };
      }
    }
    const call = {
      method,
      path,
      status: resp.status,
      body: parsed,
      headers: {
        etag: resp.headers.get('etag'),
        location: resp.headers.get('location'),
        contentType: type,
        cacheControl: resp.headers.get('cache-control'),
      },
    };
    state.calls.push({ method, path, status: resp.status });
    show(`${method} ${path} -> ${resp.status}`);
    return call;
  }

  function adopt(accessToken, expiresIn) {
    state.token = accessToken;
    state.tokenExpiresAt = Date.now() + Number(expiresIn) * 1000;
  }

  // Refreshes through the HttpOnly cookie; one refresh at a time (a second concurrent one would
  // present a rotated token and end the session).
  let refreshing = null;
  function refresh() {
    if (!refreshing) {
      refreshing = (async () => {
        const call = await send('POST', '/auth/refresh', { credentials: 'include' });
        const b = call.body || {};
        state.refreshes.push({
          status: call.status,
          cacheControl: call.headers.cacheControl,
          keys: typeof b === 'object' ? Object.keys(b).sort() : [],
          refreshTokenInBody: typeof b === 'object' && 'refreshToken' in b,
          expiresIn: b.expiresIn,
          tokenType: b.tokenType,
          at: Date.now(),
        });
        if (call.status !== 200) {
          state.token = null;
          throw new ApiError(call);
        }
        adopt(b.accessToken, b.expiresIn);
        return call;
      })().finally(() => {
        refreshing = null;
      });
    }
    return refreshing;
  }

  // An authenticated call: refreshes shortly before the token expires, and once on a 401.
  async function api(method, path, opts = {}) {
    if (!state.token || Date.now() > state.tokenExpiresAt - 1500) await refresh();
    let call = await send(method, path, { ...opts, token: state.token });
    if (call.status === 401) {
      await refresh();
      call = await send(method, path, { ...opts, token: state.token });
    }
    return call;
  }

  async function ok(method, path, opts, expected = [200]) {
    const call = await api(method, path, opts);
    if (!expected.includes(call.status)) throw new ApiError(call);
    return call;
  }

  // Every page load: the token from the sign-in redirect's fragment, else from the cookie.
  async function boot() {
    const fragment = new URLSearchParams(location.hash.slice(1));
    if (fragment.get('error')) {
      show(`sign-in failed: ${fragment.get('error')}`);
      return { signedIn: false, error: fragment.get('error') };
    }
    if (fragment.get('accessToken')) {
      adopt(fragment.get('accessToken'), fragment.get('expiresIn'));
      history.replaceState(null, '', location.pathname + location.search); // no token in history
      show('signed in (token from the redirect)');
      return {
        signedIn: true,
        source: 'fragment',
        tokenType: fragment.get('tokenType'),
        expiresIn: Number(fragment.get('expiresIn')),
        token: state.token,
      };
    }
    try {
      await refresh();
      show('signed in (refresh cookie)');
      return { signedIn: true, source: 'cookie', token: state.token };
    } catch (e) {
      show('not signed in');
      if (!e.call) throw e;
      return { signedIn: false, status: e.call.status, body: e.call.body, contentType: e.call.headers.contentType };
    }
  }

  function signInUrl() {
    const back = `${location.origin}/signed-in.html`;
    return `${API}/auth/google/login?returnTo=${encodeURIComponent(back)}`;
  }

  // A call with a token the page no longer uses (the test's proof that it expired).
  async function callWithToken(token, method, path) {
    const call = await send(method, path, { token });
    return { status: call.status, body: call.body };
  }

  async function me() {
    return (await ok('GET', '/users/me')).body;
  }

  async function createSpace(name) {
    const call = await ok('POST', '/spaces', { body: { name, description: 'Made by the browser test' } }, [201]);
    return { status: call.status, location: call.headers.location, space: call.body };
  }

  function pickedFile(inputId) {
    const input = $(inputId);
    if (!input.files || !input.files.length) throw new Error(`pick a file in #${inputId} first`);
    return input.files[0];
  }

  // The bytes go straight to S3 with the presigned URL: never through the API.
  async function putToS3(url, body, headers = {}) {
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

  async function uploadSingle(spaceId, inputId, title) {
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
  async function startMultipart(spaceId, inputId, title) {
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

  function pendingUpload() {
    const raw = localStorage.getItem(RESUME_KEY);
    return raw ? JSON.parse(raw) : null;
  }

  // After a reload: ask the API which parts S3 has and for fresh URLs, upload the rest.
  async function resumeMultipart(inputId) {
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

  async function waitReady(videoId, timeoutMs = 90000) {
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

  // hls.js asks for variant playlists and segments by relative URLs: every request gets the
  // current grant's query (a renewed grant applies from the next request on).
  function withGrant(url) {
    const u = new URL(url);
    for (const k of ['Policy', 'Signature', 'Key-Pair-Id', 'Hash-Algorithm', 'Expires']) u.searchParams.delete(k);
    const q = state.playback.signedQuery;
    return u.toString() + (u.search ? '&' : '?') + q;
  }

  async function playbackGrant(videoId) {
    const call = await ok('GET', `/videos/${videoId}/playback`);
    state.playback = call.body;
    return { status: call.status, body: call.body, cacheControl: call.headers.cacheControl };
  }

  async function play(videoId) {
    const grant = await playbackGrant(videoId);
    const video = $('video');
    if (state.hls) state.hls.destroy();
    const errors = [];
    const segments = [];
    const hls = new Hls({
      xhrSetup: (xhr, url) => {
        xhr.open('GET', withGrant(url), true);
      },
    });
    state.hls = hls;
    hls.on(Hls.Events.ERROR, (_, data) => {
      errors.push({ type: data.type, details: data.details, fatal: data.fatal, status: data.response && data.response.code });
      show(`hls.js error ${data.details} ${data.fatal ? '(fatal)' : ''}`);
    });
    hls.on(Hls.Events.FRAG_LOADED, (_, data) => segments.push(new URL(data.frag.url).pathname.split('/').pop()));
    const parsed = new Promise((resolve) => hls.on(Hls.Events.MANIFEST_PARSED, (_, d) => resolve(d.levels)));
    hls.loadSource(state.playback.hlsUrl);
    hls.attachMedia(video);
    video.muted = true;
    const levels = await Promise.race([parsed, new Promise((r) => setTimeout(() => r(null), 15000))]);
    if (!levels) return { grant, errors, error: 'the manifest never parsed' };
    await video.play();
    const startedAt = video.currentTime;
    const deadline = Date.now() + 20000;
    while (video.currentTime < startedAt + 1.5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    return {
      grant,
      levels: levels.map((l) => ({ width: l.width, height: l.height, bitrate: l.bitrate })),
      startedAt,
      currentTime: video.currentTime,
      paused: video.paused,
      frame: frameStats(),
      errors,
      segments: segments.slice(0, 5),
      videoWidth: video.videoWidth,
      videoHeight: video.videoHeight,
    };
  }

  // A caption track uploaded as WebVTT, then the player loaded again: hls.js finds it among the
  // master's subtitles renditions and loads its cues into the <video>'s text track.
  async function captions(videoId, vtt) {
    const put = await api('PUT', `/videos/${videoId}/captions/en?label=English`, {
      body: vtt,
      headers: { 'content-type': 'text/vtt' },
    });
    await playbackGrant(videoId);
    const video = $('video');
    if (state.hls) state.hls.destroy();
    const errors = [];
    const hls = new Hls({ xhrSetup: (xhr, url) => xhr.open('GET', withGrant(url), true) });
    state.hls = hls;
    hls.on(Hls.Events.ERROR, (_, data) => errors.push({ details: data.details, fatal: data.fatal }));
    const parsed = new Promise((resolve) => hls.on(Hls.Events.MANIFEST_PARSED, () => resolve(true)));
    hls.loadSource(state.playback.hlsUrl);
    hls.attachMedia(video);
    if (!(await Promise.race([parsed, new Promise((r) => setTimeout(() => r(false), 15000))]))) {
      return { put: { status: put.status, body: put.body }, errors, error: 'the manifest never parsed' };
    }
    const tracks = hls.subtitleTracks.map((t) => ({ name: t.name, lang: t.lang }));
    hls.subtitleDisplay = true;
    hls.subtitleTrack = 0;
    video.muted = true;
    await video.play();
    let texts = [];
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline) {
      const track = Array.from(video.textTracks).find((t) => t.language === 'en' || t.label === 'English');
      if (track && track.cues && track.cues.length) {
        texts = Array.from(track.cues).map((c) => c.text);
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    return { put: { status: put.status, body: put.body }, tracks, texts, errors, captions: state.playback.captions };
  }

  // How much of the current frame is not black (a decoded picture, not an empty element).
  function frameStats() {
    const video = $('video');
    const c = document.createElement('canvas');
    c.width = 160;
    c.height = 90;
    const g = c.getContext('2d', { willReadFrequently: true });
    g.drawImage(video, 0, 0, c.width, c.height);
    const px = g.getImageData(0, 0, c.width, c.height).data;
    let lit = 0;
    const colours = new Set();
    for (let i = 0; i < px.length; i += 4) {
      if (px[i] + px[i + 1] + px[i + 2] > 60) lit++;
      colours.add(((px[i] >> 5) << 6) | ((px[i + 1] >> 5) << 3) | (px[i + 2] >> 5));
    }
    return { litFraction: lit / (px.length / 4), colours: colours.size };
  }

  // The MP4 rendition in a plain <video> (byte ranges from the CDN, CORS so that the frame can
  // be read back), and the poster in an <img>.
  async function playMp4(seekTo) {
    const video = $('mp4');
    video.crossOrigin = 'anonymous';
    video.muted = true;
    video.src = state.playback.mp4Url;
    const loaded = await Promise.race([
      new Promise((r) => video.addEventListener('loadedmetadata', () => r(true), { once: true })),
      new Promise((r) => video.addEventListener('error', () => r(false), { once: true })),
      new Promise((r) => setTimeout(() => r(false), 15000)),
    ]);
    if (!loaded) return { error: `the MP4 did not load (${video.error && video.error.message})` };
    const seeked = new Promise((r) => video.addEventListener('seeked', r, { once: true }));
    video.currentTime = seekTo;
    await Promise.race([seeked, new Promise((r) => setTimeout(r, 10000))]);
    await video.play();
    const from = video.currentTime;
    const deadline = Date.now() + 15000;
    while (video.currentTime < from + 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    video.pause();
    const c = document.createElement('canvas');
    c.width = 64;
    c.height = 36;
    let lit = null;
    try {
      const g = c.getContext('2d');
      g.drawImage(video, 0, 0, c.width, c.height);
      const px = g.getImageData(0, 0, c.width, c.height).data;
      lit = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i] + px[i + 1] + px[i + 2] > 60) lit++;
      lit /= px.length / 4;
    } catch (e) {
      lit = `canvas: ${e.name}`;
    }
    const poster = $('poster');
    poster.src = state.playback.posterUrl;
    const posterOk = await poster.decode().then(() => true, () => false);
    return {
      duration: video.duration,
      seekedTo: from,
      currentTime: video.currentTime,
      litFraction: lit,
      width: video.videoWidth,
      poster: { loaded: posterOk, width: poster.naturalWidth },
    };
  }

  async function renewPlayback(videoId) {
    const before = state.playback && state.playback.signedQuery;
    const grant = await playbackGrant(videoId);
    return { ...grant, changed: before !== state.playback.signedQuery };
  }

  // A media URL fetched by the page itself (CORS on the CDN), with or without the grant.
  async function fetchMedia(url) {
    let resp;
    try {
      resp = await fetch(url, { credentials: 'omit' });
    } catch (e) {
      return { status: 0, error: `the browser refused or lost the request (CORS or network): ${e.message}` };
    }
    const bytes = (await resp.arrayBuffer()).byteLength;
    return { status: resp.status, bytes, contentType: resp.headers.get('content-type') };
  }

  async function seek(seconds) {
    const video = $('video');
    video.pause();
    const done = new Promise((r) => video.addEventListener('seeked', r, { once: true }));
    video.currentTime = seconds;
    await Promise.race([done, new Promise((r) => setTimeout(r, 10000))]);
    // One painted frame after the seek.
    await new Promise((r) => {
      if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(() => r());
      setTimeout(r, 500);
    });
    renderOverlay();
    return { currentTime: video.currentTime, frame: frameStats() };
  }

  async function saveProgress(videoId) {
    const video = $('video');
    const positionSeconds = Math.round(video.currentTime * 1000) / 1000;
    const progressRate = Math.min(100, Math.round((positionSeconds / video.duration) * 100));
    const put = await api('PUT', `/videos/${videoId}/progress`, { body: { progressRate, positionSeconds } });
    const after = await ok('GET', `/videos/${videoId}`);
    return { sent: { progressRate, positionSeconds }, put: { status: put.status, body: put.body }, progress: after.body.progress };
  }

  // Read, then save conditionally on the version the ETag gave; a stale save is refused.
  async function saveMemo(videoId, text) {
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

  // Drawing on the overlay canvas (pointer events from the runner's mouse).
  const strokes = [];
  let current = null;
  function setUpCanvas() {
    const canvas = $('overlay');
    if (!canvas) return;
    const at = (e) => {
      const r = canvas.getBoundingClientRect();
      return [Math.round(((e.clientX - r.left) / r.width) * 1000) / 1000, Math.round(((e.clientY - r.top) / r.height) * 1000) / 1000];
    };
    canvas.addEventListener('pointerdown', (e) => {
      current = { color: '#ff00ff', width: 8, points: [at(e)] };
      canvas.setPointerCapture(e.pointerId);
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!current) return;
      current.points.push(at(e));
      paint(canvas, [...strokes, current]);
    });
    canvas.addEventListener('pointerup', () => {
      if (current) strokes.push(current);
      current = null;
    });
    $('video').addEventListener('timeupdate', renderOverlay);
  }

  function paint(canvas, list) {
    const g = canvas.getContext('2d');
    g.clearRect(0, 0, canvas.width, canvas.height);
    for (const s of list) {
      g.strokeStyle = s.color;
      g.lineWidth = s.width;
      g.lineCap = 'round';
      g.beginPath();
      s.points.forEach(([x, y], i) => (i ? g.lineTo(x * canvas.width, y * canvas.height) : g.moveTo(x * canvas.width, y * canvas.height)));
      g.stroke();
    }
  }

  // The saved overlay shows only between its two timestamps.
  function renderOverlay() {
    const canvas = $('overlay');
    if (!canvas || !state.overlay) return;
    const t = $('video').currentTime;
    const on = t >= state.overlay.startSeconds && t < state.overlay.endSeconds;
    paint(canvas, on ? state.overlay.document.strokes : []);
  }

  function overlayInk() {
    const canvas = $('overlay');
    const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++;
    return n;
  }

  async function saveOverlay(videoId, drawingId, startSeconds, endSeconds) {
    if (!strokes.length) throw new Error('draw something on the overlay first');
    const document = { version: 1, strokes: strokes.splice(0) };
    const put = await api('PUT', `/videos/${videoId}/drawings/${drawingId}`, {
      body: { kind: 'overlay', startSeconds, endSeconds, document },
    });
    const got = await ok('GET', `/videos/${videoId}/drawings/${drawingId}`);
    const list = await ok('GET', `/videos/${videoId}/drawings`);
    state.overlay = { startSeconds: got.body.startSeconds, endSeconds: got.body.endSeconds, document: got.body.document };
    paint($('overlay'), []);
    return {
      sent: document,
      put: { status: put.status, body: put.body, location: put.headers.location },
      got: got.body,
      listed: list.body.items,
    };
  }

  async function overlayAt(seconds) {
    const s = await seek(seconds);
    return { currentTime: s.currentTime, ink: overlayInk() };
  }

  // The current frame as a PNG, uploaded with the presigned PUT, then listed and read back.
  async function snapshot(videoId) {
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

  // Webex connect: the API gives the authorize URL to an authenticated fetch; the page goes
  // there; Webex comes back to webex-connected.html with code and state.
  async function webexLogin() {
    const call = await api('GET', '/webex/login');
    return { status: call.status, body: call.body, location: call.headers.location };
  }

  async function webexConnect() {
    const login = await webexLogin();
    if (login.status !== 200 || !login.body || !login.body.authorizeUrl) return login;
    show('to Webex');
    location.assign(login.body.authorizeUrl);
    return login;
  }

  // On webex-connected.html.
  async function webexFinish() {
    const q = new URLSearchParams(location.search);
    const call = await api('POST', '/webex/token', { body: { code: q.get('code'), state: q.get('state') } });
    const me = await ok('GET', '/users/me');
    return { status: call.status, body: call.body, webexConnected: me.body.webexConnected, error: q.get('error') };
  }

  async function webexImport(spaceId) {
    const recordings = await ok('GET', '/webex/recordings');
    const rec = (recordings.body.items || [])[0];
    if (!rec) return { recordings: recordings.body, error: 'the Webex stand-in has no recording' };
    const imported = await api('POST', `/spaces/${spaceId}/videos/webex`, {
      body: { recordingId: rec.recordingId, title: rec.topic },
    });
    if (imported.status !== 202) return { recordings: recordings.body.items, imported: { status: imported.status, body: imported.body } };
    const ready = await waitReady(imported.body.videoId);
    return {
      recordings: recordings.body.items,
      imported: { status: imported.status, body: imported.body, location: imported.headers.location },
      ready,
    };
  }

  // Zoom: the same connector flow (authorize URL from the API, back to zoom-connected.html).
  async function zoomLogin() {
    const call = await api('GET', '/zoom/login');
    return { status: call.status, body: call.body, cacheControl: call.headers.cacheControl };
  }

  async function zoomConnect() {
    const login = await zoomLogin();
    if (login.status !== 200 || !login.body || !login.body.authorizeUrl) return login;
    show('to Zoom');
    location.assign(login.body.authorizeUrl);
    return login;
  }

  // On zoom-connected.html.
  async function zoomFinish() {
    const q = new URLSearchParams(location.search);
    const call = await api('POST', '/zoom/token', { body: { code: q.get('code'), state: q.get('state') } });
    const me = await ok('GET', '/users/me');
    return { status: call.status, body: call.body, zoomConnected: me.body.zoomConnected, error: q.get('error') };
  }

  // Zoom lists meetings, each with its importable MP4 files; one file is imported.
  async function zoomImport(spaceId) {
    const listed = await ok('GET', '/users/me/recordings');
    const meeting = (listed.body.items || []).find((m) => (m.files || []).length);
    if (!meeting) return { meetings: listed.body, error: 'the Zoom stand-in has no recording with an MP4 file' };
    const file = meeting.files[0];
    const imported = await api('POST', `/spaces/${spaceId}/videos/zoom`, {
      body: { meetingId: meeting.meetingId, recordingFileId: file.recordingFileId, title: meeting.topic },
    });
    if (imported.status !== 202) return { meetings: listed.body.items, imported: { status: imported.status, body: imported.body } };
    const ready = await waitReady(imported.body.videoId);
    return {
      meetings: listed.body.items,
      imported: { status: imported.status, body: imported.body, location: imported.headers.location },
      ready,
    };
  }

  // Logout needs the refresh cookie only: no access token (one that expired must not keep the
  // browser signed in).
  async function logout() {
    const out = await send('POST', '/auth/logout', { credentials: 'include' });
    state.token = null;
    const after = await send('POST', '/auth/refresh', { credentials: 'include' });
    return {
      logout: { status: out.status, body: out.body },
      refreshAfter: { status: after.status, body: after.body, contentType: after.headers.contentType },
    };
  }

  window.app = {
    boot,
    signInUrl,
    refresh: async () => {
      await refresh();
      return state.refreshes[state.refreshes.length - 1];
    },
    token: () => state.token,
    refreshes: () => state.refreshes,
    callWithToken,
    call: async (method, path, body) => {
      const c = await api(method, path, body === undefined ? {} : { body });
      return { status: c.status, body: c.body, contentType: c.headers.contentType };
    },
    me,
    createSpace,
    uploadSingle,
    startMultipart,
    pendingUpload,
    resumeMultipart,
    waitReady,
    play,
    captions,
    renewPlayback,
    playMp4,
    fetchMedia,
    frameStats,
    seek,
    saveProgress,
    saveMemo,
    saveOverlay,
    overlayAt,
    snapshot,
    webexLogin,
    webexConnect,
    webexFinish,
    webexImport,
    zoomLogin,
    zoomConnect,
    zoomFinish,
    zoomImport,
    logout,
  };

  document.addEventListener('DOMContentLoaded', () => {
    const link = $('sign-in');
    if (link) link.href = signInUrl();
    setUpCanvas();
    // The app signs in on every load: from the sign-in redirect, else from the refresh cookie.
    if ($('video')) window.booted = boot();
  });
})();
