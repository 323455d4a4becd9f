// The overlay drawing: strokes drawn with the pointer on the canvas over the player, saved as a
// drawing between two timestamps, shown only between them.

import { $, api, ok, state } from './session.js';

// Drawing on the overlay canvas (pointer events from the runner's mouse).
const strokes = [];
let current = null;
export function setUpCanvas() {
  const canvas = $('overlay');
  if (!canvas) return;
  const at = (e) => {
    const r = canvas.getBoundingClientRect();
    return [Math.round(((e.clientX - r.left) / r.width) * 1000) / 1000, Math.round(((e.clientY - r.top) / r.height) * 1000) / 1000];
  };
  canvas.addEventListener('pointerdown', (e) => {
    current = { color: '#ff00ff', width: 8, points: [at(e)] };
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!current) return;
    current.points.push(at(e));
    paint(canvas, [...strokes, current]);
  });
  canvas.addEventListener('pointerup', () => {
    if (current) strokes.push(current);
    current = null;
  });
  $('video').addEventListener('timeupdate', renderOverlay);
}

function paint(canvas, list) {
  const g = canvas.getContext('2d');
  g.clearRect(0, 0, canvas.width, canvas.height);
  for (const s of list) {
    g.strokeStyle = s.color;
    g.lineWidth = s.width;
    g.lineCap = 'round';
    g.beginPath();
    s.points.forEach(([x, y], i) => (i ? g.lineTo(x * canvas.width, y * canvas.height) : g.moveTo(x * canvas.width, y * canvas.height)));
    g.stroke();
  }
}

// The saved overlay shows only between its two timestamps.
export function renderOverlay() {
  const canvas = $('overlay');
  if (!canvas || !state.overlay) return;
  const t = $('video').currentTime;
  const on = t >= state.overlay.startSeconds && t < state.overlay.endSeconds;
  paint(canvas, on ? state.overlay.document.strokes : []);
}

export function overlayInk() {
  const canvas = $('overlay');
  const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++;
  return n;
}

export async function saveOverlay(videoId, drawingId, startSeconds, endSeconds) {
  if (!strokes.length) throw new Error('draw something on the overlay first');
  const document = { version: 1, strokes: strokes.splice(0) };
  const put = await api('PUT', `/videos/${videoId}/drawings/${drawingId}`, {
    body: { kind: 'overlay', startSeconds, endSeconds, document },
  });
  const got = await ok('GET', `/videos/${videoId}/drawings/${drawingId}`);
  const list = await ok('GET', `/videos/${videoId}/drawings`);
  state.overlay = { startSeconds: got.body.startSeconds, endSeconds: got.body.endSeconds, document: got.body.document };
  paint($('overlay'), []);
  return {
    sent: document,
    put: { status: put.status, body: put.body, location: put.headers.location },
    got: got.body,
    listed: list.body.items,
  };
}
