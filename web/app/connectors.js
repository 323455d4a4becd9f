// @ts-check
// Webex and Zoom: the authorize URL from an authenticated fetch, the page sent there, the code
// and state handed to the API on the return page (webex-connected.html, zoom-connected.html:
// the stack's VIVID_WEBEX_REDIRECT_URI / VIVID_ZOOM_REDIRECT_URI), the stand-ins' recordings
// listed, one imported and waited for.

/** @import { Schemas } from './types.js' */
import { api, isObject, ok, show } from './session.js';
import { waitReady } from './uploads.js';

/** @param {'webex' | 'zoom'} platform */
async function login(platform) {
  const call = await api('GET', `/${platform}/login`);
  const b = call.body;
  /** @type {Partial<Schemas['AuthorizeUrl']>} */
  const body = call.status === 200 && isObject(b) && typeof b['authorizeUrl'] === 'string' ? { authorizeUrl: b['authorizeUrl'] } : {};
  return { status: call.status, body, location: call.headers.location, cacheControl: call.headers.cacheControl };
}

/** @param {'webex' | 'zoom'} platform */
async function connect(platform) {
  const l = await login(platform);
  if (l.status !== 200 || !l.body.authorizeUrl) return l;
  const authorize = webAddress(l.body.authorizeUrl);
  if (!authorize) {
    show(`${platform}: not following the API's authorizeUrl (not an http: or https: address)`);
    return { ...l, refused: true };
  }
  const back = authorize.searchParams.get('redirect_uri') || '';
  if (!sameOrigin(back)) {
    // The stack's default return page shows the code for curl; this page finishes on its own.
    const name = platform.toUpperCase();
    const hint = `${platform} returns to ${back}: start the stack with VIVID_${name}_REDIRECT_URI=${location.origin}/${platform}-connected.html to come back here`;
    show(hint);
    if (!confirm(`${hint}. Go on to ${platform} anyway?`)) return l;
  }
  show(`to ${platform}`);
  location.assign(authorize.href);
  return l;
}

/**
 * `address` as a URL to navigate to if it is a web address (http: or https:); null otherwise
 * (javascript:, data: or anything else a tampered answer could carry, or not an address).
 * @param {string} address
 */
export function webAddress(address) {
  try {
    const url = new URL(address);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url : null;
  } catch {
    return null;
  }
}

/** Whether `address` is on this page's origin (a prefix test would take localhost:5173.evil.example). @param {string} address */
export function sameOrigin(address) {
  try {
    return new URL(address).origin === location.origin;
  } catch {
    return false;
  }
}

/** On the return page: the code and state to the API. @param {'webex' | 'zoom'} platform */
async function finish(platform) {
  const q = new URLSearchParams(location.search);
  /** @type {Schemas['ConnectRequest']} */
  const body = { code: q.get('code') || '', state: q.get('state') || '' };
  const call = await api('POST', `/${platform}/token`, { body });
  const me = (await ok('Profile', 'GET', '/users/me')).body;
  return { status: call.status, body: call.body, webexConnected: me.webexConnected, zoomConnected: me.zoomConnected, error: q.get('error') };
}

export const webexLogin = () => login('webex');
export const webexConnect = () => connect('webex');
export const webexFinish = () => finish('webex');
export const zoomLogin = () => login('zoom');
export const zoomConnect = () => connect('zoom');
export const zoomFinish = () => finish('zoom');

export async function webexRecordings() {
  return (await ok('WebexRecordingList', 'GET', '/webex/recordings')).body.items;
}

export async function zoomMeetings() {
  return (await ok('ZoomMeetingList', 'GET', '/zoom/recordings')).body.items;
}

/** Imports a Webex recording (the first MP4 one by default) into a space. @param {string} spaceId @param {string} [recordingId] */
export async function webexImport(spaceId, recordingId) {
  const recordings = await webexRecordings();
  const rec = recordings.find((r) => (recordingId ? r.recordingId === recordingId : r.format === 'MP4')) || recordings[0];
  if (!rec) return { recordings, error: 'the Webex stand-in has no recording' };
  /** @type {Schemas['WebexImport']} */
  const body = { recordingId: rec.recordingId, title: rec.topic };
  const imported = await api('POST', `/spaces/${spaceId}/videos/webex`, { body });
  return { recordings, ...(await importing(imported)) };
}

/** Imports a Zoom meeting's MP4 file into a space. @param {string} spaceId @param {string} [meetingId] */
export async function zoomImport(spaceId, meetingId) {
  const meetings = await zoomMeetings();
  const meeting = meetings.find((m) => m.files.length && (!meetingId || m.meetingId === meetingId));
  const file = meeting && meeting.files[0];
  if (!meeting || !file) return { meetings, error: 'the Zoom stand-in has no recording with an MP4 file' };
  /** @type {Schemas['ZoomImport']} */
  const body = { meetingId: meeting.meetingId, recordingFileId: file.recordingFileId, title: meeting.topic };
  const imported = await api('POST', `/spaces/${spaceId}/videos/zoom`, { body });
  return { meetings, ...(await importing(imported)) };
}

/** An import's 202, then the video waited for. @param {import('./types.js').Answer<unknown>} imported */
async function importing(imported) {
  const b = imported.body;
  const videoId = imported.status === 202 && isObject(b) && typeof b['videoId'] === 'string' ? b['videoId'] : null;
  if (!videoId) return { imported: { status: imported.status, body: b } };
  return {
    imported: { status: imported.status, body: b, location: imported.headers.location },
    ready: await waitReady(videoId),
  };
}
