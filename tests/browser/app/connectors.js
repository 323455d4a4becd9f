// Webex and Zoom: the authorize URL from an authenticated fetch, the page sent there, the code
// and state handed to the API on the return page, a recording imported and waited for.

import { api, ok, show } from './session.js';
import { waitReady } from './uploads.js';

// Webex connect: the API gives the authorize URL to an authenticated fetch; the page goes
// there; Webex comes back to webex-connected.html with code and state.
export async function webexLogin() {
  const call = await api('GET', '/webex/login');
  return { status: call.status, body: call.body, location: call.headers.location };
}

export async function webexConnect() {
  const login = await webexLogin();
  if (login.status !== 200 || !login.body || !login.body.authorizeUrl) return login;
  show('to Webex');
  location.assign(login.body.authorizeUrl);
  return login;
}

// On webex-connected.html.
export async function webexFinish() {
  const q = new URLSearchParams(location.search);
  const call = await api('POST', '/webex/token', { body: { code: q.get('code'), state: q.get('state') } });
  const me = await ok('GET', '/users/me');
  return { status: call.status, body: call.body, webexConnected: me.body.webexConnected, error: q.get('error') };
}

export async function webexImport(spaceId) {
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
export async function zoomLogin() {
  const call = await api('GET', '/zoom/login');
  return { status: call.status, body: call.body, cacheControl: call.headers.cacheControl };
}

export async function zoomConnect() {
  const login = await zoomLogin();
  if (login.status !== 200 || !login.body || !login.body.authorizeUrl) return login;
  show('to Zoom');
  location.assign(login.body.authorizeUrl);
  return login;
}

// On zoom-connected.html.
export async function zoomFinish() {
  const q = new URLSearchParams(location.search);
  const call = await api('POST', '/zoom/token', { body: { code: q.get('code'), state: q.get('state') } });
  const me = await ok('GET', '/users/me');
  return { status: call.status, body: call.body, zoomConnected: me.body.zoomConnected, error: q.get('error') };
}

// Zoom lists meetings, each with its importable MP4 files; one file is imported.
export async function zoomImport(spaceId) {
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
