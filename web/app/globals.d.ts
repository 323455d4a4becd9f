// What the pages share besides ES modules: /config.js (written by the server of the page: the
// local stack's infra/frontend.rs) names the API; app.js puts the client on `window.app` for the
// browser test (tests/browser) and the console.
interface Window {
  VIVID_CONFIG: { api: string };
  app: Record<string, unknown>;
  vividState: unknown;
  booted: Promise<unknown>;
  launched: Promise<unknown>;
  webexResult: Promise<unknown>;
  zoomResult: Promise<unknown>;
}
