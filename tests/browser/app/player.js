// Playback: the grant, HLS with hls.js (every request with the grant's signed query), captions
// as a subtitles rendition, the MP4 rendition and the poster, seeking, a frame's pixels, progress.

import { overlayInk, renderOverlay } from './overlay.js';
import { $, api, ok, show, state } from './session.js';

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

export async function play(videoId) {
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
export async function captions(videoId, vtt) {
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
export function frameStats() {
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
export async function playMp4(seekTo) {
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

export async function renewPlayback(videoId) {
  const before = state.playback && state.playback.signedQuery;
  const grant = await playbackGrant(videoId);
  return { ...grant, changed: before !== state.playback.signedQuery };
}

// A media URL fetched by the page itself (CORS on the CDN), with or without the grant.
export async function fetchMedia(url) {
  let resp;
  try {
    resp = await fetch(url, { credentials: 'omit' });
  } catch (e) {
    return { status: 0, error: `the browser refused or lost the request (CORS or network): ${e.message}` };
  }
  const bytes = (await resp.arrayBuffer()).byteLength;
  return { status: resp.status, bytes, contentType: resp.headers.get('content-type') };
}

export async function seek(seconds) {
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

export async function saveProgress(videoId) {
  const video = $('video');
  const positionSeconds = Math.round(video.currentTime * 1000) / 1000;
  const progressRate = Math.min(100, Math.round((positionSeconds / video.duration) * 100));
  const put = await api('PUT', `/videos/${videoId}/progress`, { body: { progressRate, positionSeconds } });
  const after = await ok('GET', `/videos/${videoId}`);
  return { sent: { progressRate, positionSeconds }, put: { status: put.status, body: put.body }, progress: after.body.progress };
}

export async function overlayAt(seconds) {
  const s = await seek(seconds);
  return { currentTime: s.currentTime, ink: overlayInk() };
}
