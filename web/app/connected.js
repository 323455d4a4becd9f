// @ts-check
// The return pages of Webex and Zoom (webex-connected.html, zoom-connected.html: the template's
// WebexRedirectUri / ZoomRedirectUri): sign in again from the refresh cookie, then hand the code
// and state to the API. The page names its platform in <body data-platform>; the result is
// window.webexResult or window.zoomResult (the browser test reads it).
import { webexFinish, zoomFinish } from './connectors.js';
import { boot } from './session.js';

/** @param {'webex' | 'zoom'} platform */
async function finish(platform) {
  const booted = await boot();
  if (!booted.signedIn) return { boot: booted };
  return { boot: booted, ...(await (platform === 'webex' ? webexFinish() : zoomFinish())) };
}

/** @param {'webex' | 'zoom'} platform */
const result = (platform) => finish(platform).catch((e) => ({ error: String(e instanceof Error ? e.message : e) }));

const platform = document.body.dataset['platform'];
if (platform === 'webex') window.webexResult = result('webex');
else if (platform === 'zoom') window.zoomResult = result('zoom');
else console.error(`[vivid] connected.js: no platform named by <body data-platform> (${platform})`);
