// @ts-check
// What the player played (issue 29): while the lecture's <video> plays, the intervals of its
// timeline it played, each with its playback rate, reported to `POST /videos/{videoId}/watching`,
// which answers the member's watched coverage (the share of the lecture watched; completion is
// 90 % of it). `GET` of the same path reads it when a lecture opens.
//
// An interval opens when the video plays (`play`, `playing`, after `seeked` while playing) and
// closes at `pause`, `seeking` (where it was before the seek), `ratechange` (a new one opens at
// the new rate), `ended`, a new source (`emptied`) and whenever a report is cut. A report is sent
// after every 30 s of playing, on pause and end, when the page is hidden (`visibilitychange`)
// and on `pagehide`, one report per send, never empty, always with `keepalive` (the request
// outlives the page: a report sent on pause just before the tab closes arrives too), each
// with the next `seq` of the player session, and never claiming more than MAX_REPORT_MS of
// wall time (`(end - start) / rate` summed; the API takes 120 s): longer playing is cut into
// several reports. The API's answer to each report, and the GET when the lecture opens, go to
// whoever listens (`onCoverage`: the page's "watched 42 %").
//
// A refused report (422: `invalid_watch_report`, `faster_than_the_clock`; 404, 409 not_ready) is
// logged to the console and dropped, never sent again; `stale_player_session` (409) starts a new
// session for the next reports. A network failure (or 429, 5xx) is sent once more with the same
// seq: the API takes a report once, and answers one it already took with `replay: true`.
//
// The player session is a random id per opened lecture (per page load, per video), so the API can
// tell this page's reports apart and check them against the clock since the session opened.

/** @import { Schemas } from './types.js' */
import { ApiError, isObject, ok, show } from './session.js';

/** @typedef {Schemas['WatchInterval']} Interval */
/** @typedef {Schemas['WatchReport']} Report */
/** @typedef {Schemas['CoverageView']} Coverage */
/** @typedef {(videoId: string, coverage: Coverage | null) => void} CoverageListener */

/** The playback rates the API takes (vivid_domain::coverage MIN_RATE, MAX_RATE). */
export const MIN_RATE = 0.25;
export const MAX_RATE = 4;
/** A report after this much playing (wall time claimed), ms. */
export const REPORT_EVERY_MS = 30_000;
/** The most wall time one report claims, ms: the API's 120 s less a margin for its rounding. */
export const MAX_REPORT_MS = 110_000;
/** The most intervals in one report, and seqs per session (the API's limits). */
const MAX_INTERVALS = 64;
const MAX_SEQ = 4096;
/** How long before a report that did not arrive is sent again, ms. */
const RETRY_AFTER_MS = 1000;

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Seconds to the millisecond, as the API counts wall time. @param {number} s */
const ms3 = (s) => Math.round(s * 1000) / 1000;
/** The wall time an interval claims, ms. @param {Interval} i */
export const wallMs = (i) => ((i.end - i.start) / i.rate) * 1000;
/** @param {number} rate */
const rateTaken = (rate) => Number.isFinite(rate) && rate >= MIN_RATE && rate <= MAX_RATE;

/** A new player session id: 32 hex digits (the API takes 1 to 64 of `A-Z a-z 0-9 _ -`). */
export function newSession() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID().replaceAll('-', '');
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The intervals, in order, as reports' interval lists: each at most `maxMs` of wall time and
 * MAX_INTERVALS intervals (an interval longer than a report's room is cut in two at it).
 * @param {Interval[]} intervals
 * @param {number} [maxMs]
 * @returns {Interval[][]}
 */
export function pack(intervals, maxMs = MAX_REPORT_MS) {
  /** @type {Interval[][]} */
  const reports = [];
  /** @type {Interval[]} */
  let current = [];
  let used = 0;
  const next = () => {
    if (current.length) reports.push(current);
    current = [];
    used = 0;
  };
  for (const whole of intervals) {
    let rest = whole;
    while (rest.end > rest.start) {
      if (current.length === MAX_INTERVALS) next();
      const room = maxMs - used;
      if (wallMs(rest) <= room) {
        current.push(rest);
        used += wallMs(rest);
        break;
      }
      // What fits, rounded down to the millisecond of the timeline (never more than the room).
      const cut = Math.floor((rest.start + (room / 1000) * rest.rate) * 1000) / 1000;
      if (cut > rest.start) {
        current.push({ start: rest.start, end: cut, rate: rest.rate });
        rest = { start: cut, end: rest.end, rate: rest.rate };
      }
      next();
    }
  }
  next();
  return reports;
}

/** @type {Set<CoverageListener>} */
const listeners = new Set();

/** Calls `listener` with each coverage the API answers (null: a lecture opened, not known yet). @param {CoverageListener} listener */
export function onCoverage(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** One lecture's watching in one <video>: its open interval, what is not reported yet, its session. */
export class Watcher {
  /** @param {HTMLVideoElement} video @param {string} videoId */
  constructor(video, videoId) {
    this.video = video;
    this.videoId = videoId;
    this.session = newSession();
    this.seq = 0;
    /** @type {{ start: number, rate: number, at: number } | null} the interval playing now (`at`: performance.now()) */
    this.open = null;
    /** where the video was last seen playing (the position before a seek or a new source) */
    this.lastPos = video.currentTime;
    /** @type {Interval[]} closed, not reported yet */
    this.closed = [];
    /** @type {Coverage | null} the most the API answered */
    this.coverage = null;
    /** @type {Set<Promise<Coverage | null>>} reports on their way */
    this.sending = new Set();
    /** @type {Array<{ seq: number, session: string, status: number | string, code?: string }>} what each report got */
    this.outcomes = [];
    /** @type {Array<[EventTarget, string, () => void]>} */
    this.bound = [];
  }

  /** Starts listening to the player and the page, and reads the coverage so far. */
  start() {
    const v = this.video;
    /** @param {EventTarget} target @param {string} type @param {() => void} fn */
    const on = (target, type, fn) => {
      target.addEventListener(type, fn);
      this.bound.push([target, type, fn]);
    };
    on(v, 'play', () => this.begin());
    on(v, 'playing', () => this.begin());
    on(v, 'seeking', () => this.close(this.lastPos));
    on(v, 'seeked', () => {
      this.lastPos = v.currentTime;
      this.begin();
    });
    on(v, 'ratechange', () => {
      this.close(v.currentTime);
      this.begin();
    });
    on(v, 'pause', () => {
      this.close(v.currentTime);
      this.flush();
    });
    on(v, 'ended', () => {
      this.close(v.currentTime);
      this.flush();
    });
    // A new source (hls.js attached again): the position is reset without a seek.
    on(v, 'emptied', () => {
      this.close(this.lastPos);
      this.lastPos = 0;
      this.flush();
    });
    on(v, 'timeupdate', () => this.tick());
    on(document, 'visibilitychange', () => {
      if (document.visibilityState === 'hidden') this.flush();
    });
    on(window, 'pagehide', () => this.flush());
    this.begin();
    void this.load();
  }

  /** Stops listening; what was played and not reported yet is sent. */
  stop() {
    this.close(this.video.seeking ? this.lastPos : this.video.currentTime);
    this.flush();
    for (const [target, type, fn] of this.bound) target.removeEventListener(type, fn);
    this.bound = [];
  }

  /** Opens an interval where the video plays now, unless one is open or it does not play. */
  begin() {
    const v = this.video;
    if (this.open || v.paused || v.seeking || v.ended) return;
    // Played outside the rates the API takes (a browser allows 1/16 to 16): not reported at all,
    // rather than as the nearest rate taken, which would claim more (or less) than was watched.
    if (!rateTaken(v.playbackRate)) return;
    this.open = { start: v.currentTime, rate: v.playbackRate, at: performance.now() };
    this.lastPos = v.currentTime;
  }

  /** Closes the open interval at `end` (seconds of the video), kept for the next report. @param {number} end */
  close(end) {
    const open = this.open;
    if (!open) return;
    this.open = null;
    // Never more of the timeline than the clock let play since it opened (a position that jumped
    // without a seek would otherwise claim what was not watched: the API refuses such claims).
    const most = open.start + ((performance.now() - open.at) / 1000) * open.rate + 0.25;
    const start = ms3(open.start);
    const stop = ms3(Math.min(end, most));
    if (Number.isFinite(stop) && stop > start) this.closed.push({ start, end: stop, rate: open.rate });
  }

  /** The wall time played and not reported yet, ms. */
  claimMs() {
    let ms = 0;
    for (const i of this.closed) ms += wallMs(i);
    if (this.open) ms += Math.max(0, ((this.video.currentTime - this.open.start) / this.open.rate) * 1000);
    return ms;
  }

  /** While playing: the position, and a report once 30 s were played since the last. */
  tick() {
    const v = this.video;
    if (v.seeking) return;
    if (this.open && v.currentTime < this.lastPos - 0.5) {
      // Back without a seek (a new source, a loop): what played ends where it was.
      this.close(this.lastPos);
      this.lastPos = v.currentTime;
      this.begin();
    }
    this.lastPos = v.currentTime;
    if (!this.open) this.begin();
    if (this.claimMs() >= REPORT_EVERY_MS) this.flush();
  }

  /** Cuts what was played so far (the open interval goes on from here) and sends it. */
  flush() {
    if (this.open) {
      const v = this.video;
      this.close(v.seeking ? this.lastPos : v.currentTime);
      this.begin();
    }
    const played = this.closed;
    this.closed = [];
    for (const intervals of pack(played)) {
      if (this.seq >= MAX_SEQ) this.renew();
      /** @type {Report} */
      const report = { session: this.session, seq: this.seq++, intervals };
      const sent = this.post(report);
      this.sending.add(sent);
      void sent.finally(() => this.sending.delete(sent));
    }
  }

  /** A new player session (the next report's seq is 0). */
  renew() {
    this.session = newSession();
    this.seq = 0;
  }

  /** The coverage so far, when the lecture opens. */
  async load() {
    try {
      const call = await ok('CoverageView', 'GET', `/videos/${this.videoId}/watching`);
      this.seen(call.body);
    } catch (e) {
      console.warn(`[vivid] watched coverage not read: ${e instanceof Error ? e.message : e}`);
    }
  }

  /** @param {Coverage} coverage */
  seen(coverage) {
    // Answers can arrive out of order; coverage only grows, so the largest is the newest.
    const best = this.coverage;
    if (best && best.watchedSeconds > coverage.watchedSeconds && !(coverage.completed && !best.completed)) return;
    this.coverage = coverage;
    for (const listener of listeners) listener(this.videoId, coverage);
  }

  /**
   * One report sent, and once more with the same seq if it did not arrive (or the API was busy).
   * @param {Report} report
   * @returns {Promise<Coverage | null>}
   */
  async post(report) {
    const path = `/videos/${this.videoId}/watching`;
    const what = `watching report ${report.seq} of session ${report.session}`;
    for (let attempt = 1; ; attempt++) {
      try {
        const call = await ok('CoverageView', 'POST', path, { body: report, keepalive: true });
        this.outcomes.push({ seq: report.seq, session: report.session, status: call.status });
        this.seen(call.body);
        return call.body;
      } catch (e) {
        if (e instanceof ApiError) {
          const { status, body } = e.call;
          const code = isObject(body) && typeof body['code'] === 'string' ? body['code'] : '';
          this.outcomes.push({ seq: report.seq, session: report.session, status, code });
          if ((status === 429 || status >= 500) && attempt === 1) {
            await sleep(RETRY_AFTER_MS);
            continue;
          }
          if (code === 'stale_player_session' && report.session === this.session) this.renew();
          console.warn(`[vivid] ${what} refused (${status} ${code}), dropped: ${e.message}`);
          return null;
        }
        const network = e instanceof TypeError;
        this.outcomes.push({ seq: report.seq, session: report.session, status: network ? 'network' : 'unreadable' });
        if (network && attempt === 1) {
          show(`${what} did not arrive: sending it again`);
          await sleep(RETRY_AFTER_MS);
          continue;
        }
        console.warn(`[vivid] ${what} lost, dropped: ${e instanceof Error ? e.message : e}`);
        return null;
      }
    }
  }
}

/** @type {Watcher | null} */
let current = null;

/**
 * Watches `videoId` in `video` from now on: the same watcher (and session) when it is already
 * the one watched there; otherwise the previous one reports what it has and stops, and a new
 * session starts (its listeners hear null, then the coverage so far).
 * @param {HTMLVideoElement} video
 * @param {string} videoId
 */
export function watch(video, videoId) {
  if (current && current.video === video && current.videoId === videoId) return current;
  if (current) current.stop();
  current = new Watcher(video, videoId);
  for (const listener of listeners) listener(videoId, null);
  current.start();
  return current;
}

/** The watcher now, for the browser test and the console. */
export const watcher = () => current;

/** Once every report on its way has its answer: the watcher's state (the browser test reads it). */
export async function settled() {
  const w = current;
  if (!w) return null;
  while (w.sending.size) await Promise.allSettled([...w.sending]);
  return {
    videoId: w.videoId,
    session: w.session,
    seq: w.seq,
    open: w.open !== null,
    unreported: w.closed.length,
    coverage: w.coverage,
    outcomes: w.outcomes,
  };
}
