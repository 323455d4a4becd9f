// The VIVID study client of the browser test: what a web front end on its own origin does with
// the API, in plain JS. tests/browser/run.py drives it in Chromium and asserts each step; every
// function returns plain data (what the page saw: statuses, readable headers, bodies) for that.
//
// The access token lives in memory only: a page load (or reload) gets one from the refresh
// cookie (`POST /auth/refresh` with credentials), as a real single-page app does.
//
// This file, which the pages load as an ES module, puts the client together as `window.app` and
// boots the page. The parts are modules under app/: session (requests, tokens, sign-in), uploads,
// player, overlay, notes (memo, snapshot) and connectors (Webex, Zoom).

import { webexConnect, webexFinish, webexImport, webexLogin, zoomConnect, zoomFinish, zoomImport, zoomLogin } from './app/connectors.js';
import { saveMemo, snapshot } from './app/notes.js';
import { saveOverlay, setUpCanvas } from './app/overlay.js';
import { captions, fetchMedia, frameStats, overlayAt, play, playMp4, renewPlayback, saveProgress, seek } from './app/player.js';
import { $, api, boot, callWithToken, logout, me, refresh, signInUrl, state } from './app/session.js';
import { createSpace, pendingUpload, resumeMultipart, startMultipart, uploadSingle, waitReady } from './app/uploads.js';

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
