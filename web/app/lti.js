// @ts-check
// The study page inside an LMS (LTI 1.3; docs/lti.md). A course page shows the tool in an iframe
// on another site than the LMS's, where browsers block third-party cookies. The launch lands on
// signed-in.html with a one-time code in the fragment (`#ltiCode=..`), which sends it on to
// `/lti`: this page at the address an LMS may frame (the page's host allows it there only). At
// `/lti` the code leaves the address at once and is exchanged at `POST /lti/session`; the access
// and refresh tokens it answers stay in memory (session.js adoptSession: no cookie, no storage,
// both partitioned or blocked in the iframe) and the session refreshes with the refresh token in
// the body. Then the launch opens what its link names: the video, played, or the course's space.
//
// `/lti` never signs in with the refresh cookie: a page any site may frame must not act with the
// Google sign-in's session (clickjacking). Reloaded without a code, it asks for a new launch.

/** @import { Schemas } from './types.js' */
/** @import { Boot } from './session.js' */
import { adoptSession, el, isObject, ok, send, show, state } from './session.js';
import { openSpace, openVideo } from './ui.js';

/** The page's address for launches (the one an LMS may frame). */
export const LAUNCH_PATH = '/lti';

/** @typedef {Schemas['LtiSession']['launch']} Launch  what a launch opens */
/** @typedef {Boot & { launch?: Launch }} LaunchBoot  a page load's session, with its launch */

/** Whether this page is at the launches' address. */
export const atLaunch = () => location.pathname === LAUNCH_PATH;

/**
 * Whether `body` is the session `POST /lti/session` answers: both tokens, their lifetime and the
 * launch's space (the fields this page uses).
 * @param {unknown} body
 * @returns {body is Schemas['LtiSession']}
 */
function isSession(body) {
  if (!isObject(body)) return false;
  const launch = body['launch'];
  return (
    typeof body['accessToken'] === 'string' &&
    typeof body['refreshToken'] === 'string' &&
    typeof body['expiresIn'] === 'number' &&
    isObject(launch) &&
    typeof launch['spaceId'] === 'string'
  );
}

/**
 * A refused launch, as the page shows it (ui.js start: `sign-in failed: …`).
 * @param {string} error
 * @param {string} errorDescription
 * @param {number} [status]
 * @returns {LaunchBoot}
 */
function refused(error, errorDescription, status) {
  show(`LMS launch failed: ${error}: ${errorDescription}`);
  return status === undefined ? { signedIn: false, error, errorDescription } : { signedIn: false, error, errorDescription, status };
}

/**
 * A page load at `/lti`: the launch's code taken from the fragment (and from the address, and so
 * from history) and exchanged for the session, kept in memory.
 * @returns {Promise<LaunchBoot>}
 */
export async function launchBoot() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const code = fragment.get('ltiCode');
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  const error = fragment.get('error');
  if (error) {
    const said = fragment.get('error_description') || 'the LMS refused the launch: launch again from the course';
    const requestId = fragment.get('request_id');
    return refused(error, requestId ? `${said} (request ${requestId})` : said);
  }
  if (!code) return refused('no_launch', 'this page opens from your LMS: open the link in the course again');
  const call = await send('POST', '/lti/session', { body: { code } });
  const body = call.body;
  if (call.status !== 200 || !isSession(body)) {
    const problem = isObject(body) ? body : {};
    const name = typeof problem['code'] === 'string' ? problem['code'] : `status_${call.status}`;
    const detail = typeof problem['detail'] === 'string' ? problem['detail'] : '';
    if (name === 'invalid_code') {
      return refused(name, 'this launch was used already or has expired: open the link in your LMS again', call.status);
    }
    return refused(name, `the LMS launch could not be completed (${call.status}${detail ? `: ${detail}` : ''})`, call.status);
  }
  adoptSession(body.accessToken, body.expiresIn, body.refreshToken);
  show('signed in (LMS launch)');
  return { signedIn: true, source: 'lti', tokenType: body.tokenType, expiresIn: body.expiresIn, token: state.token, launch: body.launch };
}

/**
 * The page at /lti once started (ui.js start): no Google sign-in inside an LMS (its cookie cannot
 * reach the API from there, nor may /lti use it); then what the launch names, opened.
 * @param {LaunchBoot} booted
 */
export async function afterStart(booted) {
  el('sign-in', HTMLAnchorElement).hidden = true;
  return booted.launch ? openLaunch(booted.launch) : null;
}

/**
 * Opens what the launch names: the course's space, and the video of a resource link in the
 * player, playing (muted, as a page may start it without a gesture). A deep-linking launch opens
 * the space (the picker is the front end's to build: docs/lti.md).
 * @param {Launch} launch
 */
export async function openLaunch(launch) {
  const space = (await ok('Space', 'GET', `/spaces/${launch.spaceId}`)).body;
  await openSpace(space);
  if (!launch.videoId) return { spaceId: space.spaceId, videoId: null, playing: false };
  const video = (await ok('Video', 'GET', `/videos/${launch.videoId}`)).body;
  await openVideo(video);
  if (document.body.dataset['video'] !== video.videoId) return { spaceId: space.spaceId, videoId: video.videoId, playing: false };
  const player = el('video', HTMLVideoElement);
  player.muted = true;
  await player.play();
  show(`playing ${video.title} (LMS launch)`);
  return { spaceId: space.spaceId, videoId: video.videoId, playing: !player.paused };
}
