// A student's and a teacher's study flow, written as a front end would write it: against the
// types openapi-typescript generates from docs/openapi.yaml (generated/api.d.ts) and the
// openapi-fetch client. scripts/contract.sh compiles it with `tsc --strict` (tsconfig.json) and
// refuses any cast, non-null assertion, `any` or ts-ignore in it (no-escape.mjs): every shape the
// flow reads must be one the document declares, narrowed by the checks a careful client makes.
// It then runs it against a mock answering from the document (mock-flow.mjs, prism): the
// examples of one answer must be data the next request accepts.

import createClient from "openapi-fetch";
import type { components, paths } from "./generated/api";

type Schemas = components["schemas"];
type Problem = Schemas["Problem"];
type ProblemCode = Schemas["ProblemCode"];
type GatewayMessage = Schemas["GatewayMessage"];
type Video = Schemas["Video"];

/** A PUT to a presigned S3 URL, as the page makes it (XMLHttpRequest for a progress bar, or fetch). */
export type Transfer = (
  url: string,
  init: { method: "PUT"; headers: Record<string, string>; body: Blob },
) => Promise<{ ok: boolean; status: number; etag: string | null }>;

/** What the flow needs: where the API is, a Google ID token, the lecture's file, and a friend to invite. */
export interface StudyEnv {
  baseUrl: string;
  googleIdToken: string;
  lecture: Blob;
  lectureName: string;
  friendEmail: string;
  /** Uploads to S3 (the API's presigned URLs are not the API's origin). */
  transfer: Transfer;
  /** Waits between two polls of a video that is still being processed. */
  pause: (ms: number) => Promise<void>;
}

/** What the flow did, for the caller to show. */
export interface StudyResult {
  userId: string;
  spaceId: string;
  videoId: string;
  playerUrl: string;
  memoVersion: number;
  firstCheckpointAt: string | undefined;
  overlaysAt120s: number;
  overlayDocument: unknown;
  snapshotUrl: string;
  searchHits: number;
  jumpToSeconds: number | undefined;
  invited: string[];
  shareableCode: string | undefined;
}

/** A refusal the flow cannot go on from, with the API's code when it sent a problem document. */
export class ApiFailure extends Error {
  readonly code: ProblemCode | undefined;
  readonly status: number;

  constructor(step: string, status: number, error: Problem | GatewayMessage | undefined) {
    super(`${step}: ${status} ${describe(error)}`);
    this.status = status;
    this.code = error !== undefined && "code" in error ? error.code : undefined;
  }
}

/** The codes worth sending the same request again for, after `Retry-After`. */
const RETRYABLE: ReadonlySet<ProblemCode> = new Set<ProblemCode>(["rate_limited", "service_unavailable"]);

/** What a person reads: the problem's detail, a word on what to do for the codes a UI explains. */
export function describe(error: Problem | GatewayMessage | undefined): string {
  if (error === undefined) {
    return "no answer body";
  }
  if (!("code" in error)) {
    // API Gateway's own answer (throttling, a function that failed): no code, a message.
    return `the API is busy (${error.message}); try again shortly`;
  }
  switch (error.code) {
    case "not_ready":
      return "the video is still being processed: notes open once it is ready";
    case "email_taken":
      return `${error.detail}. Sign in with the Google account that has this address.`;
    case "reauthentication_required":
      return "sign in again, then repeat what you were doing";
    case "storage_quota_exceeded":
    case "snapshot_quota_exceeded":
    case "drawing_quota_exceeded":
      return `${error.detail} (limit ${error.limit ?? "unknown"})`;
    default:
      return RETRYABLE.has(error.code) ? `${error.detail} (retrying)` : error.detail;
  }
}

/** The player's URL: the HLS master with the grant's query (hls.js also adds it to every request). */
function playerUrl(video: Video): string | undefined {
  const grant = video.playback;
  if (grant === undefined || grant.hlsUrl === undefined) {
    return undefined;
  }
  return grant.hlsUrl.includes("?") ? grant.hlsUrl : `${grant.hlsUrl}?${grant.signedQuery}`;
}

export async function studyFlow(env: StudyEnv): Promise<StudyResult> {
  // Sign in with Google's ID token: tokens and the user in one answer.
  const anonymous = createClient<paths>({ baseUrl: env.baseUrl });
  const signIn = await anonymous.POST("/auth/google", { body: { idToken: env.googleIdToken } });
  if (signIn.data === undefined) {
    throw new ApiFailure("sign in", signIn.response.status, signIn.error);
  }
  const { user, refreshToken } = signIn.data;
  let accessToken = signIn.data.accessToken;

  // A refresh with the body flow: the rotated refresh token comes back in the body.
  const refreshed = await anonymous.POST("/auth/refresh", { body: { refreshToken } });
  if (refreshed.data === undefined) {
    throw new ApiFailure("refresh", refreshed.response.status, refreshed.error);
  }
  accessToken = refreshed.data.accessToken;
  const nextRefreshToken = refreshed.data.refreshToken ?? refreshToken;

  const api = createClient<paths>({ baseUrl: env.baseUrl, headers: { authorization: `Bearer ${accessToken}` } });

  // The profile, with what the account may still store.
  const me = await api.GET("/users/me");
  if (me.data === undefined) {
    throw new ApiFailure("profile", me.response.status, me.error);
  }
  const storageLeft = me.data.usage.storageBytes.limit - me.data.usage.storageBytes.used;

  // Spaces: the personal one is first; a course gets a space of its own.
  const spaces = await api.GET("/spaces", { params: { query: { limit: 50 } } });
  if (spaces.data === undefined) {
    throw new ApiFailure("spaces", spaces.response.status, spaces.error);
  }
  const personal = spaces.data.items.find((s) => s.personal);
  if (personal === undefined || personal.spaceId !== user.personalSpaceId) {
    throw new Error("the personal space is missing from the list");
  }
  const created = await api.POST("/spaces", { body: { name: "Physics 101", description: "Waves" } });
  if (created.data === undefined) {
    throw new ApiFailure("create space", created.response.status, created.error);
  }
  const spaceId = created.data.spaceId;
  const spacePath = { path: { spaceId } };

  // The lecture: a video in UPLOADING and how to upload its file.
  const video = await api.POST("/spaces/{spaceId}/videos", {
    params: spacePath,
    body: { title: "Standing waves", fileName: env.lectureName, contentType: "video/mp4", sizeBytes: env.lecture.size },
  });
  if (video.data === undefined) {
    throw new ApiFailure("create video", video.response.status, video.error);
  }
  const videoId = video.data.videoId;
  const videoPath = { path: { videoId } };
  const upload = video.data.upload;
  switch (upload.kind) {
    case "single": {
      // One PUT, with exactly the headers signed into the URL.
      const put = await env.transfer(upload.url, { method: upload.method, headers: upload.headers, body: env.lecture });
      if (!put.ok) {
        throw new Error(`upload: S3 answered ${put.status} before ${upload.expiresAt}`);
      }
      break;
    }
    case "multipart": {
      // Each part to its URL, each answer's ETag kept, then the completion.
      const parts: Schemas["CompletedPart"][] = [];
      for (const part of upload.parts) {
        const start = (part.partNumber - 1) * upload.partSize;
        const body = env.lecture.slice(start, start + upload.partSize);
        const put = await env.transfer(part.url, { method: "PUT", headers: {}, body });
        const etag = put.etag;
        if (!put.ok || etag === null) {
          throw new Error(`part ${part.partNumber}: S3 answered ${put.status}; resume with ${upload.partsUrl}`);
        }
        parts.push({ partNumber: part.partNumber, etag });
      }
      const complete = await api.POST("/videos/{videoId}/upload/complete", { params: videoPath, body: { parts } });
      if (complete.data === undefined) {
        throw new ApiFailure("complete upload", complete.response.status, complete.error);
      }
      break;
    }
  }

  // Transcoding: poll until READY (or FAILED, with its code), for an hour at most.
  let ready: Video | undefined;
  for (let poll = 0; ready === undefined; poll += 1) {
    if (poll === 3600) {
      throw new Error("the lecture is still not ready after an hour: try again later");
    }
    const polled = await api.GET("/videos/{videoId}", { params: videoPath });
    if (polled.data === undefined) {
      throw new ApiFailure("poll", polled.response.status, polled.error);
    }
    const status = polled.data.status;
    if (status === "READY") {
      ready = polled.data;
    } else if (status === "FAILED") {
      throw new Error(`the lecture failed: ${polled.data.failureCode ?? "unspecified"} (${polled.data.failureReason ?? ""})`);
    } else {
      await env.pause(status === "TRANSCODING" && (polled.data.percentComplete ?? 0) > 90 ? 250 : 1000);
    }
  }

  // Play: the signed master playlist; the grant is renewed before it expires.
  const url = playerUrl(ready);
  if (url === undefined) {
    throw new Error("a READY video without an HLS playlist");
  }
  const renewed = await api.GET("/videos/{videoId}/playback", { params: videoPath });
  if (renewed.data === undefined) {
    throw new ApiFailure("renew playback", renewed.response.status, renewed.error);
  }
  const renewAt = Date.parse(renewed.data.expiresAt) - 60_000;
  const chapters = ready.chapters ?? [];

  // Progress, a beacon of one write.
  const progress = await api.PUT("/videos/{videoId}/progress", {
    params: videoPath,
    body: { progressRate: 10, positionSeconds: chapters[0]?.startSeconds ?? 0 },
  });
  if (progress.error !== undefined) {
    throw new ApiFailure("progress", progress.response.status, progress.error);
  }

  // The memo, saved on top of the version read (If-Match), reloaded when another tab saved first.
  const memo = await api.GET("/videos/{videoId}/text-memo", { params: videoPath });
  if (memo.data === undefined) {
    throw new ApiFailure("memo", memo.response.status, memo.error);
  }
  let etag = memo.response.headers.get("etag") ?? `"${memo.data.version}"`;
  const previous = memo.data.stateJson ?? "";
  let memoVersion = memo.data.version;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const saved = await api.PUT("/videos/{videoId}/text-memo", {
      params: { path: { videoId }, header: { "If-Match": etag } },
      body: { stateJson: `${previous}<p>Nodes stay still.</p>`, videoTime: 120.5 },
    });
    if (saved.data !== undefined) {
      memoVersion = saved.data.version;
      break;
    }
    if (saved.error === undefined || !("code" in saved.error) || saved.error.code !== "precondition_failed") {
      throw new ApiFailure("save memo", saved.response.status, saved.error);
    }
    const reloaded = await api.GET("/videos/{videoId}/text-memo", { params: videoPath });
    if (reloaded.data === undefined) {
      throw new ApiFailure("reload memo", reloaded.response.status, reloaded.error);
    }
    etag = reloaded.response.headers.get("etag") ?? `"${reloaded.data.version}"`;
  }
  const checkpoint = await api.POST("/videos/{videoId}/text-memo/history", { params: videoPath });
  if (checkpoint.data === undefined) {
    throw new ApiFailure("checkpoint", checkpoint.response.status, checkpoint.error);
  }
  const history = await api.GET("/videos/{videoId}/text-memo/history", { params: videoPath });
  const firstSaved = history.data?.items.at(-1)?.createdAt;

  // Drawings: an overlay on 2:00-2:10 of the video and a page beside it; then what shows at 2:00.
  const stroke = { color: "#e11d48", width: 3, points: [[0.12, 0.4], [0.3, 0.42]] };
  const overlay = await api.PUT("/videos/{videoId}/drawings/{drawingId}", {
    params: { path: { videoId, drawingId: "overlay-1" } },
    body: { kind: "overlay", startSeconds: 120, endSeconds: 130, document: { strokes: [stroke] } },
  });
  if (overlay.data === undefined) {
    throw new ApiFailure("overlay", overlay.response.status, overlay.error);
  }
  const page = await api.PUT("/videos/{videoId}/drawings/{drawingId}", {
    params: { path: { videoId, drawingId: "page-1" } },
    body: { kind: "page", document: { strokes: [] } },
  });
  if (page.error !== undefined) {
    throw new ApiFailure("page", page.response.status, page.error);
  }
  const drawings = await api.GET("/videos/{videoId}/drawings", { params: videoPath });
  if (drawings.data === undefined) {
    throw new ApiFailure("drawings", drawings.response.status, drawings.error);
  }
  const at = 120;
  const showing = drawings.data.items.filter(
    (d) => d.kind === "overlay" && (d.startSeconds ?? Infinity) <= at && at < (d.endSeconds ?? -Infinity),
  );
  const full = await api.GET("/videos/{videoId}/drawings/{drawingId}", {
    params: { path: { videoId, drawingId: overlay.data.drawingId } },
  });
  const document: unknown = full.data?.document;

  // A snapshot: the record, then its image to the presigned PUT.
  const image = new Blob([new Uint8Array(1024)], { type: "image/png" });
  const snapshot = await api.POST("/videos/{videoId}/snapshots", {
    params: videoPath,
    body: { videoSeconds: at, contentType: "image/png", sizeBytes: image.size },
  });
  if (snapshot.data === undefined) {
    if (snapshot.error !== undefined && "code" in snapshot.error && snapshot.error.code === "storage_quota_exceeded") {
      throw new Error(`no room for the snapshot: ${storageLeft} bytes left (${describe(snapshot.error)})`);
    }
    throw new ApiFailure("snapshot", snapshot.response.status, snapshot.error);
  }
  const target = snapshot.data.upload;
  const putImage = await env.transfer(target.url, { method: target.method, headers: target.headers, body: image });
  if (!putImage.ok) {
    throw new Error(`snapshot image: S3 answered ${putImage.status} (the URL works until ${target.expiresAt})`);
  }
  const snapshots = await api.GET("/videos/{videoId}/snapshots", { params: videoPath });
  const snapshotId = snapshot.data.snapshotId;
  const snapshotUrl = snapshots.data?.items.find((s) => s.snapshotId === snapshotId)?.url ?? "";

  // A bookmark, and the space's search (the memo's words are the caller's own to find).
  const bookmark = await api.POST("/videos/{videoId}/bookmarks", {
    params: videoPath,
    body: { videoSeconds: at, label: "Nodes" },
  });
  if (bookmark.data === undefined) {
    throw new ApiFailure("bookmark", bookmark.response.status, bookmark.error);
  }
  const search = await api.GET("/spaces/{spaceId}/search", { params: { path: { spaceId }, query: { q: "nodes" } } });
  const hits = search.data?.items ?? [];
  const jumpTo = hits[0]?.moments[0];

  // Invitations: one by e-mail (it may not be mailed today), and a shareable code.
  const invited = await api.POST("/spaces/{spaceId}/invitations", {
    params: spacePath,
    body: { emails: [env.friendEmail] },
  });
  if (invited.data === undefined) {
    throw new ApiFailure("invite", invited.response.status, invited.error);
  }
  const mails = invited.data.items.map((i) =>
    i.emailed === false ? `${i.email ?? "?"}: not mailed (${i.notEmailedBecause ?? "unknown"}); share ${i.joinUrl}` : i.joinUrl,
  );
  const code = await api.POST("/spaces/{spaceId}/invitations", { params: spacePath, body: { maxUses: 30 } });
  const shareable = code.data?.items[0]?.code;

  // Zoom: a connected account's recordings, one imported into the space.
  const zoom = await api.GET("/zoom/recordings", { params: { query: { limit: 10 } } });
  if (zoom.data !== undefined) {
    const meeting = zoom.data.items[0];
    const file = meeting?.files[0];
    if (meeting !== undefined && file !== undefined) {
      const imported = await api.POST("/spaces/{spaceId}/videos/zoom", {
        params: spacePath,
        body: { meetingId: meeting.meetingId, recordingFileId: file.recordingFileId, title: meeting.topic },
      });
      if (imported.error !== undefined && "code" in imported.error && imported.error.code !== "already_imported") {
        throw new ApiFailure("zoom import", imported.response.status, imported.error);
      }
    }
  } else if (zoom.error !== undefined && "code" in zoom.error && zoom.error.code === "zoom_not_connected") {
    const login = await api.GET("/zoom/login");
    if (login.data !== undefined) {
      mails.push(`connect Zoom at ${login.data.authorizeUrl}`);
    }
  }

  // Sign out: the refresh token ends its session.
  await anonymous.POST("/auth/logout", { body: { refreshToken: nextRefreshToken } });

  return {
    userId: user.userId,
    spaceId,
    videoId,
    playerUrl: Date.now() < renewAt ? url : (renewed.data.hlsUrl ?? url),
    memoVersion,
    firstCheckpointAt: firstSaved,
    overlaysAt120s: showing.length,
    overlayDocument: document,
    snapshotUrl,
    searchHits: hits.length,
    jumpToSeconds: jumpTo,
    invited: mails,
    shareableCode: shareable,
  };
}
