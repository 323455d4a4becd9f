// @ts-check
// The VIVID study page: a web front end on its own origin, in plain ES modules (no framework, no
// bundler), type-checked against the types generated from docs/openapi.yaml (web/app/types.js;
// `make test-contract`). The parts are modules under app/: session (requests, tokens, sign-in),
// uploads (spaces, uploads, transcoding), player (hls.js), overlay (drawing over the video and
// drawing pages), notes (memo and history, snapshots, bookmarks, search), connectors (Webex,
// Zoom), invitations, lti (the page inside an LMS: a launch's code for a session, its video
// played), and ui (the page's controls).
//
// The access token lives in memory only: a page load (or reload) gets one from the sign-in
// redirect's fragment or from the refresh cookie (`POST /auth/refresh` with credentials); at
// `/lti`, the address an LMS frames, from the launch's one-time code only (lti.js).
//
// `window.app` is the client for the browser test (tests/browser drives this page and asserts
// what each call returns: statuses, readable headers, bodies) and for the console.

import { webexConnect, webexFinish, webexImport, webexLogin, zoomConnect, zoomFinish, zoomImport, zoomLogin } from './app/connectors.js';
import { accept, invite } from './app/invitations.js';
import { afterStart, atLaunch, launchBoot } from './app/lti.js';
import { addBookmark, checkpointMemo, listBookmarks, memoHistory, saveMemo, search, snapshot } from './app/notes.js';
import { loadDrawings, overlayInk, pendingStart, saveOverlay, setUpCanvas } from './app/overlay.js';
import { captions, fetchMedia, frameStats, overlayAt, overlayWhilePlaying, play, playMp4, renewPlayback, saveProgress, seek } from './app/player.js';
import { $, api, boot, callWithToken, logout, me, refresh, signInUrl, state } from './app/session.js';
import { start } from './app/ui.js';
import { createSpace, pendingUpload, resumeMultipart, startMultipart, upload, uploadSingle, waitReady } from './app/uploads.js';

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
  /** @param {string} method @param {string} path @param {unknown} [body] */
  call: async (method, path, body) => {
    const c = await api(method, path, body === undefined ? {} : { body });
    return { status: c.status, body: c.body, contentType: c.headers.contentType };
  },
  me,
  createSpace,
  upload,
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
  memoHistory,
  checkpointMemo,
  saveOverlay,
  pendingStart,
  loadDrawings,
  overlayAt,
  overlayInk,
  overlayWhilePlaying,
  snapshot,
  addBookmark,
  listBookmarks,
  search,
  invite,
  accept,
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
  setUpCanvas();
  // The page signs in on every load: from the sign-in redirect, else from the refresh cookie; at
  // /lti from the LMS launch's code only, and then opens what the launch names.
  if ($('study-page')) {
    /** @type {Promise<import('./app/lti.js').LaunchBoot>} */
    const booted = atLaunch() ? launchBoot() : boot();
    window.booted = booted;
    booted
      .then(async (b) => {
        await start(b);
        if (atLaunch()) window.launched = afterStart(b);
      })
      .catch((e) => console.error(e));
  }
});
