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
// `/lti` never signs in with the refresh cookie: a framed page must not act with the Google
// sign-in's session (clickjacking; only the listed LMSs may frame it, docs/lti.md). Reloaded
// without a code, it asks for a new launch.

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
 * What the page says for each code a launch is refused with (shared/api/src/lti.rs `problem`, and
 * `lti_launch_refused` for the LMS's own error response).
 * @type {Record<string, string>}
 */
const LAUNCH_REFUSALS = {
  lti_launch_refused: 'the LMS refused the launch: launch again from the course',
  invalid_state: 'this launch expired or was used already: launch again from the course',
  invalid_lti_request: 'the LMS sent a launch VIVID cannot read: launch again, or ask your LMS administrator',
  unknown_platform: 'VIVID is not registered in this LMS (or this course’s deployment of it): ask your LMS administrator',
  unauthenticated: 'the LMS’s launch could not be verified: launch again from the course',
  course_not_linked: 'no instructor has opened VIVID in this course yet: ask your instructor to open it first',
  managers_only: 'only the course’s instructors can do this',
  removed_from_space: 'the course’s host removed you from its space in VIVID: ask your instructor',
  account_deleting: 'your VIVID account is being deleted',
  rate_limited: 'too many launches at once: wait a moment and launch again',
};

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
    // Whoever made the address wrote the fragment (a link, a page framing /lti): the page says
    // only its own words for the codes a launch is refused with, and a request id only in the
    // API's shape; never the fragment's text (error_description is for logs and other clients).
    const known = Object.hasOwn(LAUNCH_REFUSALS, error);
    const said = known ? LAUNCH_REFUSALS[error] : 'the launch was refused: launch again from the course';
    const requestId = fragment.get('request_id') || '';
    const id = /^[A-Za-z0-9-]{1,64}$/.test(requestId) ? ` (request ${requestId})` : '';
    return refused(known ? error : 'launch_refused', `${said}${id}`);
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
