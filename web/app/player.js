// @ts-check
// Playback: the grant, HLS with hls.js (every request with the grant's signed query), captions
// as a subtitles rendition, the MP4 rendition and the poster, seeking, a frame's pixels, progress
// (the resume position, PUT /progress). What the lecture's player plays is reported by watching.js
// (watched coverage), from the moment a lecture is played here.

/** @import { Schemas } from './types.js' */
import Hls from '../vendor/hls.js/hls.min.mjs';
import { overlayInk, renderOverlay } from './overlay.js';
import { api, el, ok, show, state } from './session.js';
import { watch } from './watching.js';

/** @type {Hls | null} */
let hls = null;
const video = () => el('video', HTMLVideoElement);
/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// hls.js asks for variant playlists and segments by relative URLs: every request gets the
// current grant's query (a renewed grant applies from the next request on).
/** @param {string} url */
function withGrant(url) {
  const u = new URL(url);
  for (const k of ['Policy', 'Signature', 'Key-Pair-Id', 'Hash-Algorithm', 'Expires']) u.searchParams.delete(k);
  const q = state.playback ? state.playback.signedQuery : '';
  return u.toString() + (u.search ? '&' : '?') + q;
}

/** @param {string} videoId */
async function playbackGrant(videoId) {
  const call = await ok('PlaybackGrant', 'GET', `/videos/${videoId}/playback`);
  state.playback = call.body;
  return { status: call.status, body: call.body, cacheControl: call.headers.cacheControl };
}

/**
 * A new hls.js on the player, loading the grant's master playlist.
 * @param {Schemas['PlaybackGrant']} grant
 * @param {Array<{type?: string, details: string, fatal: boolean, status?: number}>} errors
 */
function attach(grant, errors) {
  if (hls) hls.destroy();
  const h = new Hls({ xhrSetup: (xhr, url) => xhr.open('GET', withGrant(url), true) });
  hls = h;
  h.on(Hls.Events.ERROR, (_, data) => {
    const status = data.response ? data.response.code : undefined;
    errors.push({ type: data.type, details: data.details, fatal: data.fatal, ...(status === undefined ? {} : { status }) });
    show(`hls.js error ${data.details} ${data.fatal ? '(fatal)' : ''}`);
  });
  /** @type {Promise<Array<{width: number, height: number, bitrate: number}> | null>} */
  const parsed = new Promise((resolve) => {
    h.on(Hls.Events.MANIFEST_PARSED, (_, d) => resolve(d.levels.map((l) => ({ width: l.width, height: l.height, bitrate: l.bitrate }))));
    setTimeout(() => resolve(null), 15000);
  });
  if (grant.hlsUrl) h.loadSource(grant.hlsUrl);
  h.attachMedia(video());
  return { h, parsed };
}

/** Plays a READY video with hls.js, or natively where the browser has HLS and no MSE (iOS). @param {string} videoId */
export async function play(videoId) {
  const v = video();
  watch(v, videoId);
  const grant = await playbackGrant(videoId);
  if (!Hls.isSupported() && grant.body.nativeHlsUrl && v.canPlayType('application/vnd.apple.mpegurl')) {
    // Native HLS copies no query to what it fetches next: the API's playlists sign every URI.
    v.src = grant.body.nativeHlsUrl;
    v.muted = true;
    await v.play();
    return { grant, native: true, currentTime: v.currentTime, paused: v.paused };
  }
  /** @type {Array<{type?: string, details: string, fatal: boolean, status?: number}>} */
  const errors = [];
  const { h, parsed } = attach(grant.body, errors);
  /** @type {string[]} */
  const segments = [];
  h.on(Hls.Events.FRAG_LOADED, (_, data) => segments.push(new URL(data.frag.url).pathname.split('/').pop() || ''));
  v.muted = true;
  const levels = await parsed;
  if (!levels) return { grant, errors, error: 'the manifest never parsed' };
  await v.play();
  const startedAt = v.currentTime;
  const deadline = Date.now() + 20000;
  while (v.currentTime < startedAt + 1.5 && Date.now() < deadline) await sleep(100);
  return {
    grant,
    levels,
    startedAt,
    currentTime: v.currentTime,
    paused: v.paused,
    frame: frameStats(),
    errors,
    segments: segments.slice(0, 5),
    videoWidth: v.videoWidth,
    videoHeight: v.videoHeight,
  };
}

// A caption track uploaded as WebVTT, then the player loaded again: hls.js finds it among the
// master's subtitles renditions and loads its cues into the <video>'s text track.
/** @param {string} videoId @param {string} vtt */
export async function captions(videoId, vtt) {
  const put = await api('PUT', `/videos/${videoId}/captions/en?label=English`, {
    body: vtt,
    headers: { 'content-type': 'text/vtt' },
  });
  watch(video(), videoId);
  const grant = await playbackGrant(videoId);
  /** @type {Array<{type?: string, details: string, fatal: boolean, status?: number}>} */
  const errors = [];
  const { h, parsed } = attach(grant.body, errors);
  if (!(await parsed)) return { put: { status: put.status, body: put.body }, errors, error: 'the manifest never parsed' };
  const tracks = h.subtitleTracks.map((t) => ({ name: t.name, lang: t.lang }));
  h.subtitleDisplay = true;
  h.subtitleTrack = 0;
  const v = video();
  v.muted = true;
  await v.play();
  /** @type {string[]} */
  let texts = [];
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    const track = Array.from(v.textTracks).find((t) => t.language === 'en' || t.label === 'English');
    if (track && track.cues && track.cues.length) {
      texts = Array.from(track.cues).map((c) => (c instanceof VTTCue ? c.text : ''));
      break;
    }
    await sleep(200);
  }
  return { put: { status: put.status, body: put.body }, tracks, texts, errors, captions: grant.body.captions };
}

/** @param {HTMLVideoElement} source @param {number} width @param {number} height */
function pixels(source, width, height) {
  const c = document.createElement('canvas');
  c.width = width;
  c.height = height;
  const g = c.getContext('2d', { willReadFrequently: true });
  if (!g) throw new Error('no 2D canvas');
  g.drawImage(source, 0, 0, c.width, c.height);
  return g.getImageData(0, 0, c.width, c.height).data;
}

/** @param {Uint8ClampedArray} px @param {number} i */
const lum = (px, i) => (px[i] ?? 0) + (px[i + 1] ?? 0) + (px[i + 2] ?? 0);

// How much of the current frame is not black (a decoded picture, not an empty element).
export function frameStats() {
  const px = pixels(video(), 160, 90);
  let lit = 0;
  const colours = new Set();
  for (let i = 0; i < px.length; i += 4) {
    if (lum(px, i) > 60) lit++;
    colours.add((((px[i] ?? 0) >> 5) << 6) | (((px[i + 1] ?? 0) >> 5) << 3) | ((px[i + 2] ?? 0) >> 5));
  }
  return { litFraction: lit / (px.length / 4), colours: colours.size };
}

// The MP4 rendition in a plain <video> (byte ranges from the CDN, CORS so that the frame can
// be read back), and the poster in an <img>.
/** @param {number} seekTo */
export async function playMp4(seekTo) {
  const mp4 = el('mp4', HTMLVideoElement);
  const grant = state.playback;
  if (!grant || !grant.mp4Url) return { error: 'no MP4 in the grant' };
  mp4.crossOrigin = 'anonymous';
  mp4.muted = true;
  mp4.src = grant.mp4Url;
  const loaded = await Promise.race([
    new Promise((r) => mp4.addEventListener('loadedmetadata', () => r(true), { once: true })),
    new Promise((r) => mp4.addEventListener('error', () => r(false), { once: true })),
    sleep(15000).then(() => false),
  ]);
  if (!loaded) return { error: `the MP4 did not load (${mp4.error && mp4.error.message})` };
  const seeked = new Promise((r) => mp4.addEventListener('seeked', r, { once: true }));
  mp4.currentTime = seekTo;
  await Promise.race([seeked, sleep(10000)]);
  await mp4.play();
  const from = mp4.currentTime;
  const deadline = Date.now() + 15000;
  while (mp4.currentTime < from + 1 && Date.now() < deadline) await sleep(100);
  mp4.pause();
  /** @type {number | string} */
  let lit;
  try {
    const px = pixels(mp4, 64, 36);
    let n = 0;
    for (let i = 0; i < px.length; i += 4) if (lum(px, i) > 60) n++;
    lit = n / (px.length / 4);
  } catch (e) {
    lit = `canvas: ${e instanceof Error ? e.name : e}`;
  }
  const poster = el('poster', HTMLImageElement);
  poster.src = grant.posterUrl || '';
  const posterOk = await poster.decode().then(() => true, () => false);
  return {
    duration: mp4.duration,
    seekedTo: from,
    currentTime: mp4.currentTime,
    litFraction: lit,
    poster: { loaded: posterOk, width: poster.naturalWidth },
  };
}

/** @param {string} videoId */
export async function renewPlayback(videoId) {
  const before = state.playback && state.playback.signedQuery;
  const grant = await playbackGrant(videoId);
  return { ...grant, changed: before !== grant.body.signedQuery };
}

// A media URL fetched by the page itself (CORS on the CDN), with or without the grant.
/** @param {string} url */
export async function fetchMedia(url) {
  /** @type {Response} */
  let resp;
  try {
    resp = await fetch(url, { credentials: 'omit' });
  } catch (e) {
    return { status: 0, error: `the browser refused or lost the request (CORS or network): ${e instanceof Error ? e.message : e}` };
  }
  const bytes = (await resp.arrayBuffer()).byteLength;
  return { status: resp.status, bytes, contentType: resp.headers.get('content-type') };
}

/** Pauses and seeks the player; one painted frame later the overlay shows that time. @param {number} seconds */
export async function seek(seconds) {
  const v = video();
  v.pause();
  const done = new Promise((r) => v.addEventListener('seeked', r, { once: true }));
  v.currentTime = seconds;
  await Promise.race([done, sleep(10000)]);
  await new Promise((r) => {
    if (v.requestVideoFrameCallback) v.requestVideoFrameCallback(() => r(null));
    setTimeout(r, 500);
  });
  renderOverlay();
  return { currentTime: v.currentTime, frame: frameStats() };
}

/** Saves the person's position in the video. @param {string} videoId */
export async function saveProgress(videoId) {
  const v = video();
  const positionSeconds = Math.round(v.currentTime * 1000) / 1000;
  const progressRate = Math.min(100, Math.round((positionSeconds / v.duration) * 100));
  /** @type {Schemas['ProgressUpdate']} */
  const body = { progressRate, positionSeconds };
  const put = await api('PUT', `/videos/${videoId}/progress`, { body });
  const after = await ok('Video', 'GET', `/videos/${videoId}`);
  return { sent: body, put: { status: put.status, body: put.body }, progress: after.body.progress };
}

/** @param {number} seconds */
export async function overlayAt(seconds) {
  const s = await seek(seconds);
  return { currentTime: s.currentTime, ink: overlayInk() };
}

/** The overlay's ink while the video plays on from `from` (paused first), once it is `at`. @param {number} from @param {number} at */
export async function overlayWhilePlaying(from, at) {
  const v = video();
  await seek(from);
  await v.play();
  const deadline = Date.now() + 15000;
  while (v.currentTime < at && Date.now() < deadline) await sleep(50);
  renderOverlay();
  return { currentTime: v.currentTime, paused: v.paused, ink: overlayInk() };
}
