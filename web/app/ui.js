// @ts-check
// The study page's controls: the modules' calls bound to the page's forms, buttons and lists.
// Everything a person does here goes through the same functions the browser test calls.

/** @import { Schemas } from './types.js' */
import { webexConnect, webexImport, webexRecordings, zoomConnect, zoomImport, zoomMeetings } from './connectors.js';
import { accept, invitationCode, invite, listInvitations } from './invitations.js';
import { addBookmark, checkpointMemo, listBookmarks, listSnapshots, memoHistory, memoText, readMemo, search, snapshot, writeMemo } from './notes.js';
import { discardOverlay, loadDrawings, newPage, openPage, pen, saveOverlay, savePage } from './overlay.js';
import { play, seek } from './player.js';
import { el, logout, me, show, signInUrl } from './session.js';
import { createSpace, listSpaces, listVideos, upload, waitReady } from './uploads.js';
import { onCoverage } from './watching.js';

/** What is open: the space and the lecture. */
const open = {
  /** @type {Schemas['Space'] | null} */
  space: null,
  /** @type {Schemas['Video'] | null} */
  video: null,
};

/**
 * Fills the list `id` with one item per entry; a click on one calls `pick` with it.
 * @template T
 * @param {string} id
 * @param {T[]} entries
 * @param {(entry: T) => string} label
 * @param {(entry: T) => unknown} [pick]
 */
function fill(id, entries, label, pick) {
  const list = el(id, HTMLUListElement);
  list.replaceChildren(
    ...entries.map((entry) => {
      const li = document.createElement('li');
      li.textContent = label(entry);
      if (pick) li.addEventListener('click', () => guard(async () => pick(entry)));
      return li;
    }),
  );
}

/** Runs an action of the person's, showing what went wrong in the log. @param {() => Promise<unknown>} action */
function guard(action) {
  action().catch((e) => show(`error: ${e instanceof Error ? e.message : e}`));
}

/** @param {string} id @param {(e: Event) => Promise<unknown>} action */
function on(id, action) {
  const target = el(id, HTMLElement);
  const event = target instanceof HTMLFormElement ? 'submit' : 'click';
  target.addEventListener(event, (e) => {
    if (event === 'submit') e.preventDefault();
    guard(() => action(e));
  });
}

const fmt = (/** @type {number} */ s) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;

/** The spaces, with `added` among them (an index lags a write a moment). @param {Schemas['Space']} [added] */
async function showSpaces(added) {
  const listed = await listSpaces();
  const spaces = added && !listed.some((s) => s.spaceId === added.spaceId) ? [...listed, added] : listed;
  fill('spaces', spaces, (s) => `${s.name} (${s.videoCount})`, openSpace);
  return spaces;
}

/** @param {Schemas['Space']} space */
export async function openSpace(space) {
  open.space = space;
  el('space-name', HTMLElement).textContent = space.name;
  await showVideos(space.spaceId, open.video);
  if (space.role !== 'participant') {
    fill('invitations', await listInvitations(space.spaceId), (i) => `${i.email || i.joinUrl} · ${i.role} · ${i.status}`);
  }
}

/** The space's lectures, `known` as the page last saw it when the list does not have it yet. @param {string} spaceId @param {Schemas['Video'] | null} known */
async function showVideos(spaceId, known) {
  const listed = await listVideos(spaceId);
  const mine = known && known.spaceId === spaceId ? known : null;
  const videos = listed.map((v) => (mine && v.videoId === mine.videoId ? mine : v));
  if (mine && !videos.includes(mine)) videos.push(mine);
  fill('videos', videos, (v) => `${v.title} · ${v.status}${v.durationSeconds ? ` · ${fmt(v.durationSeconds)}` : ''}`, openVideo);
  return videos;
}

/** Opens a lecture: played once READY, its drawings, memo, bookmarks and snapshots. @param {Schemas['Video']} video */
export async function openVideo(video) {
  document.body.dataset['video'] = '';
  open.video = video;
  el('video-title', HTMLElement).textContent = video.title;
  if (open.space && open.space.spaceId === video.spaceId) await showVideos(video.spaceId, video);
  const ready = video.status === 'READY' ? video : (await waitReady(video.videoId, 600000)).video;
  if (ready.status !== 'READY') return;
  await play(ready.videoId);
  el('video', HTMLVideoElement).pause();
  await showNotes(ready.videoId);
  open.video = ready;
  if (open.space && open.space.spaceId === ready.spaceId) await showVideos(ready.spaceId, ready);
  document.body.dataset['video'] = ready.videoId; // the lecture is open (a mark the browser test waits for)
}

/** @param {string} videoId */
async function showNotes(videoId) {
  const drawings = await loadDrawings(videoId);
  fill('drawings', drawings.filter((d) => d.kind === 'page'), (d) => `page ${d.drawingId}`, (d) => openPage(videoId, d.drawingId));
  el('memo', HTMLTextAreaElement).value = (await readMemo(videoId)).text;
  fill('memo-history', await memoHistory(videoId), (c) => `v${c.version} · ${c.createdAt.slice(0, 16)}`, (c) => {
    el('memo', HTMLTextAreaElement).value = memoText(c.stateJson);
  });
  fill('bookmarks', await listBookmarks(videoId), (b) => `${fmt(b.videoSeconds)} ${b.label}`, (b) => seek(b.videoSeconds));
  fill('snapshots', await listSnapshots(videoId), (s) => `snapshot at ${fmt(s.videoSeconds)}`, (s) => {
    el('snapshot', HTMLImageElement).src = s.url;
  });
}

const videoId = () => {
  if (!open.video) throw new Error('open a lecture first');
  return open.video.videoId;
};
const spaceId = () => {
  if (!open.space) throw new Error('open a space first');
  return open.space.spaceId;
};

/** What the person watched of the lecture (watching.js: each report's answer, and the coverage when it opens). */
function bindWatched() {
  const watched = el('watched', HTMLElement);
  onCoverage((videoId, coverage) => {
    watched.dataset['video'] = videoId;
    watched.textContent = coverage ? `watched ${coverage.percent} %${coverage.completed ? ' · completed' : ''}` : '';
    watched.title = coverage ? coverage.ranges.map(([a, b]) => `${fmt(a ?? 0)}–${fmt(b ?? 0)}`).join(', ') : '';
  });
}

function bindPlayer() {
  bindWatched();
  const v = el('video', HTMLVideoElement);
  const bar = el('seek', HTMLInputElement);
  on('play', async () => (v.paused ? v.play() : v.pause()));
  bar.addEventListener('input', () => guard(() => seek(Number(bar.value))));
  v.addEventListener('timeupdate', () => {
    bar.max = String(v.duration || 0);
    bar.value = String(v.currentTime);
    el('clock', HTMLElement).textContent = `${v.currentTime.toFixed(1)} s`;
  });
  const color = el('pen-color', HTMLInputElement);
  const width = el('pen-width', HTMLInputElement);
  color.addEventListener('input', () => (pen.color = color.value));
  width.addEventListener('input', () => (pen.width = Number(width.value) || 8));
  on('overlay-save', async () => {
    const r = await saveOverlay(videoId(), `overlay-${Date.now().toString(36)}`);
    show(`drawing saved (${r.put.status}), shown ${r.got.startSeconds} s to ${r.got.endSeconds} s`);
  });
  on('overlay-discard', async () => discardOverlay());
  on('page-new', async () => newPage());
  on('page-save', async () => {
    await savePage(videoId(), `page-${Date.now().toString(36)}`);
    await showNotes(videoId());
  });
}

function bindNotes() {
  on('memo-save', async () => {
    const r = await writeMemo(videoId(), el('memo', HTMLTextAreaElement).value);
    el('memo-status', HTMLElement).textContent =
      r.status === 412 ? 'someone saved meanwhile: reopen the lecture to see it' : `saved (version ${r.etag})`;
  });
  on('memo-checkpoint', async () => {
    await checkpointMemo(videoId());
    await showNotes(videoId());
  });
  on('bookmark', async () => {
    await addBookmark(videoId(), el('bookmark-label', HTMLInputElement).value);
    await showNotes(videoId());
  });
  on('snapshot-take', async () => {
    await snapshot(videoId());
    await showNotes(videoId());
  });
}

function bindSpace() {
  on('new-space', async () => {
    const name = el('new-space-name', HTMLInputElement);
    const r = await createSpace(name.value);
    name.value = '';
    await showSpaces(r.space);
    await openSpace(r.space);
  });
  on('upload', async () => {
    const file = el('upload-file', HTMLInputElement).files?.[0];
    const title = el('upload-title', HTMLInputElement).value || (file ? file.name.replace(/\.[^.]*$/, '') : 'Lecture');
    const r = await upload(spaceId(), 'upload-file', title);
    const space = open.space;
    if (space) await openSpace(space);
    await openVideo(r.video);
  });
  on('search', async () => {
    const r = await search(spaceId(), el('search-q', HTMLInputElement).value);
    fill('search-results', r.items, (h) => `${h.title} (${h.matchedIn.join(', ')})`, async (h) => {
      const video = (await listVideos(spaceId())).find((v) => v.videoId === h.videoId);
      if (video) await openVideo(video);
      const moment = h.moments[0];
      if (moment !== undefined) await seek(moment);
    });
  });
  on('webex-connect', () => webexConnect());
  on('zoom-connect', () => zoomConnect());
  on('imports-list', async () => {
    /** @type {Array<{label: string, run: () => Promise<unknown>}>} */
    const entries = [];
    for (const r of await webexRecordings().catch(() => [])) {
      entries.push({ label: `Webex: ${r.topic} (${r.format})`, run: () => webexImport(spaceId(), r.recordingId) });
    }
    for (const m of await zoomMeetings().catch(() => [])) {
      entries.push({ label: `Zoom: ${m.topic}`, run: () => zoomImport(spaceId(), m.meetingId) });
    }
    if (!entries.length) show('no recordings: connect Webex or Zoom first');
    fill('recordings', entries, (e) => e.label, async (e) => {
      await e.run();
      if (open.space) await openSpace(open.space);
    });
  });
  on('invite', async () => {
    const emails = el('invite-emails', HTMLInputElement).value.split(/[\s,]+/).filter(Boolean);
    const role = el('invite-role', HTMLSelectElement).value === 'co-host' ? 'co-host' : 'participant';
    const made = await invite(spaceId(), emails, role);
    show(`invited: ${made.map((i) => i.email || i.joinUrl).join(', ')}`);
    if (open.space) await openSpace(open.space);
  });
}

/** At /invitations/{code}: what the invitation is and a button to accept it. @param {boolean} signedIn */
function invitationPanel(signedIn) {
  const found = invitationCode(location.pathname);
  if (!found) return;
  el('invitation', HTMLElement).hidden = false;
  const text = el('invitation-text', HTMLElement);
  if (!('code' in found)) {
    text.textContent = 'invalid invitation link';
    el('invitation-accept', HTMLButtonElement).disabled = true;
    return;
  }
  const { code } = found;
  text.textContent = signedIn ? `Invitation ${code}: accept it to join its space.` : 'Sign in first, then accept the invitation.';
  const button = el('invitation-accept', HTMLButtonElement);
  button.disabled = !signedIn;
  on('invitation-accept', async () => {
    const r = await accept(code);
    text.textContent = r.status === 200 ? 'Joined.' : `Could not accept (${r.status}).`;
    if (r.status !== 200) return;
    history.replaceState(null, '', '/');
    el('invitation', HTMLElement).hidden = true;
    const spaces = await showSpaces();
    const b = r.body;
    const joined = spaces.find((s) => typeof b === 'object' && b !== null && 'spaceId' in b && s.spaceId === b.spaceId);
    if (joined) await openSpace(joined);
  });
}

/** The page once the session is known. @param {import('./session.js').Boot} booted */
export async function start(booted) {
  el('sign-in', HTMLAnchorElement).href = signInUrl();
  if (booted.error) el('who', HTMLElement).textContent = `sign-in failed: ${booted.errorDescription || booted.error}`;
  invitationPanel(booted.signedIn);
  if (!booted.signedIn) return;
  el('sign-in', HTMLAnchorElement).hidden = true;
  const out = el('sign-out', HTMLButtonElement);
  out.hidden = false;
  on('sign-out', async () => {
    await logout();
    location.assign(location.pathname === '/lti' ? '/lti' : '/'); // inside an LMS: its page, which says to launch again
  });
  bindPlayer();
  bindNotes();
  bindSpace();
  const user = await me();
  el('who', HTMLElement).textContent = user.email;
  await showSpaces();
}
