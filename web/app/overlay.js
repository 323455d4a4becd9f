// @ts-check
// Drawing: strokes drawn with the pointer on a canvas over the player, paused or playing, saved as
// an overlay drawing between two times of the video and shown only between them; and drawing
// pages (kind `page`), sketches of their own beside the video. A drawing's document is
// `{version: 1, strokes: [{color, width, points: [[x, y], ...]}]}`, points in fractions of the
// picture, so it shows the same at any size.

/** @import { DrawingDocument, Schemas, Stroke } from './types.js' */
import { $, api, el, isObject, ok, show } from './session.js';

/** @typedef {{ drawingId: string, startSeconds: number, endSeconds: number, document: DrawingDocument }} Overlay */

/** The pen of both canvases. */
export const pen = { color: '#ff00ff', width: 8 };

/** @param {number} v */
const round3 = (v) => Math.round(v * 1000) / 1000;

/**
 * Paints `strokes` on `canvas` (cleared first).
 * @param {HTMLCanvasElement} canvas
 * @param {Stroke[]} strokes
 */
function paint(canvas, strokes) {
  const g = canvas.getContext('2d');
  if (!g) return;
  g.clearRect(0, 0, canvas.width, canvas.height);
  for (const s of strokes) {
    g.strokeStyle = s.color;
    g.lineWidth = s.width;
    g.lineCap = 'round';
    g.lineJoin = 'round';
    g.beginPath();
    s.points.forEach(([x, y], i) => (i ? g.lineTo(x * canvas.width, y * canvas.height) : g.moveTo(x * canvas.width, y * canvas.height)));
    g.stroke();
  }
}

/** Strokes drawn on one canvas and not saved yet. */
class Sketch {
  /** @param {HTMLCanvasElement} canvas @param {() => void} changed */
  constructor(canvas, changed) {
    this.canvas = canvas;
    /** @type {Stroke[]} */
    this.strokes = [];
    /** @type {Stroke | null} */
    this.current = null;
    /** @param {PointerEvent} e @returns {[number, number]} */
    const at = (e) => {
      const r = canvas.getBoundingClientRect();
      return [round3((e.clientX - r.left) / r.width), round3((e.clientY - r.top) / r.height)];
    };
    canvas.addEventListener('pointerdown', (e) => {
      this.current = { color: pen.color, width: pen.width, points: [at(e)] };
      canvas.setPointerCapture(e.pointerId);
      this.onStart();
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!this.current) return;
      this.current.points.push(at(e));
      changed();
    });
    canvas.addEventListener('pointerup', () => {
      if (this.current) this.strokes.push(this.current);
      this.current = null;
      changed();
    });
  }

  /** Called as a stroke begins. */
  onStart() {}

  /** @returns {Stroke[]} */
  drawn() {
    return this.current ? [...this.strokes, this.current] : this.strokes;
  }

  /** @returns {DrawingDocument} the strokes as a document, the sketch emptied */
  take() {
    return { version: 1, strokes: this.strokes.splice(0) };
  }
}

/**
 * A drawing document as the API gave it back (`unknown` in the schema: the page's own format),
 * or null when it is not one.
 * @param {unknown} doc
 * @returns {DrawingDocument | null}
 */
export function asDocument(doc) {
  if (!isObject(doc) || doc['version'] !== 1 || !Array.isArray(doc['strokes'])) return null;
  /** @type {Stroke[]} */
  const strokes = [];
  for (const s of doc['strokes']) {
    if (!isObject(s) || typeof s['color'] !== 'string' || typeof s['width'] !== 'number' || !Array.isArray(s['points'])) return null;
    /** @type {Array<[number, number]>} */
    const points = [];
    for (const p of s['points']) {
      if (!Array.isArray(p) || typeof p[0] !== 'number' || typeof p[1] !== 'number') return null;
      points.push([p[0], p[1]]);
    }
    strokes.push({ color: s['color'], width: s['width'], points });
  }
  return { version: 1, strokes };
}

const video = () => el('video', HTMLVideoElement);

/** What the player's overlay shows: the saved overlays of the video, the strokes being drawn. */
const overlay = {
  /** @type {Overlay[]} */
  saved: [],
  /** @type {Sketch | null} */
  sketch: null,
  /** @type {number | null} the video's time when the unsaved drawing began */
  startedAt: null,
  /** @type {Sketch | null} */
  page: null,
};

// The overlay repaints with the video: on every frame while it plays, on seeks and pauses.
export function setUpCanvas() {
  const canvas = $('overlay');
  if (!(canvas instanceof HTMLCanvasElement)) return;
  const sketch = new Sketch(canvas, renderOverlay);
  sketch.onStart = () => {
    if (overlay.startedAt === null) overlay.startedAt = round3(video().currentTime);
  };
  overlay.sketch = sketch;
  const v = video();
  for (const name of ['timeupdate', 'seeked', 'pause', 'loadeddata']) v.addEventListener(name, renderOverlay);
  const loop = () => {
    renderOverlay();
    if (!v.paused && !v.ended) requestAnimationFrame(loop);
  };
  v.addEventListener('play', () => requestAnimationFrame(loop));
  const page = $('page-canvas');
  if (page instanceof HTMLCanvasElement) {
    const p = new Sketch(page, () => paint(page, p.drawn()));
    overlay.page = p;
  }
}

/** The overlays saved for the current time, then what is being drawn. */
export function renderOverlay() {
  const canvas = $('overlay');
  if (!(canvas instanceof HTMLCanvasElement)) return;
  const t = video().currentTime;
  const on = overlay.saved.filter((o) => t >= o.startSeconds && t < o.endSeconds).flatMap((o) => o.document.strokes);
  paint(canvas, [...on, ...(overlay.sketch ? overlay.sketch.drawn() : [])]);
  const label = $('overlay-label');
  if (label) label.textContent = overlay.startedAt === null ? '' : `drawing from ${overlay.startedAt.toFixed(1)} s`;
}

/** How many pixels of the overlay have ink. */
export function overlayInk() {
  const canvas = el('overlay', HTMLCanvasElement);
  const g = canvas.getContext('2d', { willReadFrequently: true });
  if (!g) return 0;
  const px = g.getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 3; i < px.length; i += 4) if ((px[i] ?? 0) > 0) n++;
  return n;
}

/** @param {Schemas['DrawingWithDocument']} got @returns {Overlay | null} */
function asOverlay(got) {
  const document = asDocument(got.document);
  if (got.kind !== 'overlay' || !document || got.startSeconds === undefined || got.endSeconds === undefined) return null;
  return { drawingId: got.drawingId, startSeconds: got.startSeconds, endSeconds: got.endSeconds, document };
}

/** The time the unsaved overlay began at (the video's time at its first stroke). */
export const pendingStart = () => overlay.startedAt;

/**
 * Saves what was drawn over the video as the overlay `drawingId`, shown from `startSeconds` (by
 * default when the drawing began) to `endSeconds` (by default #overlay-seconds later); then reads
 * it back.
 * @param {string} videoId
 * @param {string} drawingId
 * @param {number} [startSeconds]
 * @param {number} [endSeconds]
 */
export async function saveOverlay(videoId, drawingId, startSeconds, endSeconds) {
  const sketch = overlay.sketch;
  if (!sketch || !sketch.strokes.length) throw new Error('draw something on the overlay first');
  const start = startSeconds ?? overlay.startedAt ?? round3(video().currentTime);
  const lasts = Number(el('overlay-seconds', HTMLInputElement).value) || 3;
  const end = endSeconds ?? round3(start + lasts);
  const document = sketch.take();
  overlay.startedAt = null;
  /** @type {Schemas['OverlayDrawing']} */
  const body = { kind: 'overlay', startSeconds: start, endSeconds: end, document };
  const put = await api('PUT', `/videos/${videoId}/drawings/${drawingId}`, { body });
  const got = await ok('DrawingWithDocument', 'GET', `/videos/${videoId}/drawings/${drawingId}`);
  const list = await ok('DrawingList', 'GET', `/videos/${videoId}/drawings`);
  const saved = asOverlay(got.body);
  overlay.saved = overlay.saved.filter((o) => o.drawingId !== drawingId).concat(saved ? [saved] : []);
  renderOverlay();
  show(`overlay ${drawingId}: ${start} s to ${end} s`);
  return {
    sent: document,
    put: { status: put.status, body: put.body, location: put.headers.location },
    got: got.body,
    listed: list.body.items,
  };
}

/** The drawings of a video; its overlays loaded to show over the player. @param {string} videoId */
export async function loadDrawings(videoId) {
  const items = (await ok('DrawingList', 'GET', `/videos/${videoId}/drawings`)).body.items;
  /** @type {Overlay[]} */
  const saved = [];
  for (const d of items.filter((i) => i.kind === 'overlay')) {
    const o = asOverlay((await ok('DrawingWithDocument', 'GET', `/videos/${videoId}/drawings/${d.drawingId}`)).body);
    if (o) saved.push(o);
  }
  overlay.saved = saved;
  if (overlay.sketch) overlay.sketch.take();
  overlay.startedAt = null;
  renderOverlay();
  return items;
}

/** Forgets the unsaved strokes over the video. */
export function discardOverlay() {
  if (overlay.sketch) overlay.sketch.take();
  overlay.startedAt = null;
  renderOverlay();
}

/** Saves the drawing page's strokes as the page drawing `drawingId`. @param {string} videoId @param {string} drawingId */
export async function savePage(videoId, drawingId) {
  if (!overlay.page) throw new Error('this page has no drawing page');
  /** @type {Schemas['PageDrawing']} */
  const body = { kind: 'page', document: { version: 1, strokes: overlay.page.drawn() } };
  const put = await api('PUT', `/videos/${videoId}/drawings/${drawingId}`, { body });
  return { status: put.status, body: put.body };
}

/** Opens a drawing page: its strokes on the page canvas, to draw on. @param {string} videoId @param {string} drawingId */
export async function openPage(videoId, drawingId) {
  const got = (await ok('DrawingWithDocument', 'GET', `/videos/${videoId}/drawings/${drawingId}`)).body;
  const doc = asDocument(got.document);
  const page = overlay.page;
  if (!page || !doc) return null;
  page.take();
  page.strokes.push(...doc.strokes);
  paint(page.canvas, page.drawn());
  return got;
}

/** Empties the drawing page. */
export function newPage() {
  if (!overlay.page) return;
  overlay.page.take();
  paint(overlay.page.canvas, []);
}
