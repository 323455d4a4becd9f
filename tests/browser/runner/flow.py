"""The study flow, one closure per step over the page and what earlier steps made (`s`): sign in,
create a space, upload (presigned PUT; multipart interrupted, reloaded, resumed), READY, HLS with
hls.js and grant renewal, captions, seek and progress, the memo with If-Match, an overlay
drawing, a snapshot, watched coverage, Webex and Zoom, past the access token's lifetime, log out. Steps after
playback are not needed by the rest: a failure there is reported and the flow goes on."""

from __future__ import annotations

import re
import time
from pathlib import Path

from runner import study
from runner.config import ACCESS_TTL, API_HOST, EMAIL, MIB, REFRESH_COOKIE, TOKEN_LEEWAY, log
from runner.servers import LocalStack
from runner.steps import Run, ev, is_problem, parse_rfc3339


def flow(run: Run, browser, stack: LocalStack, clips: dict[str, Path]) -> None:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    run.page = page
    page.on("console", lambda m: run.console.append(f"[{m.type}] {m.text}"))
    page.on("pageerror", lambda e: run.console.append(f"[pageerror] {e}"))
    page.on("requestfailed", lambda r: run.console.append(f"[requestfailed] {r.method} {r.url[:160]} {r.failure}"))
    page.on("framenavigated", lambda f: f == page.main_frame and run.console.append(f"[navigated] {f.url[:160]}"))
    app = stack.origin
    s: dict = {}

    def booted():
        return page.evaluate("() => window.booted")

    # -- sign in ----------------------------------------------------------------------------
    def sign_in():
        page.goto(f"{app}/index.html")
        first = booted()
        run.check(first.get("signedIn") is False, "before sign-in the page has no session", first)
        run.check(first.get("status") == 401 and is_problem(first), "a refresh without the cookie is a 401 problem", first)
        page.click("#sign-in")
        page.wait_for_selector("input[name=email]")  # the Google stand-in's authorize page
        run.check(page.url.startswith("http://127.0.0.1:"), "the login redirected to the Google stand-in", page.url)
        page.fill("input[name=email]", EMAIL)
        page.fill("input[name=name]", "Ana Example")
        with page.expect_navigation(url=re.compile(r"/index\.html"), timeout=30000):
            page.click("button[type=submit]")
        b = booted()
        run.require(b.get("signedIn") and b.get("source") == "fragment", "signed in from the redirect's fragment", b)
        run.check("accessToken" not in page.url, "the token left the address bar", page.url)
        run.check("signin=" not in page.url, "the sign-in value came back in the address and left it", page.url)
        run.check(b.get("expiresIn") == ACCESS_TTL,
                  f"the access token lives {ACCESS_TTL} s (VIVID_ACCESS_TOKEN_TTL_SECS -> AccessTokenTtlSeconds)", b)
        s["t0"], s["t0_at"], s["t0_ttl"] = b["token"], time.time(), b.get("expiresIn") or 900
        cookies = [c for c in ctx.cookies() if c["name"] == REFRESH_COOKIE and c["domain"] == API_HOST]
        run.require(len(cookies) == 1, "the __Host- refresh cookie is set on the API's host", ctx.cookies())
        c = cookies[0]
        run.check(c["httpOnly"] and c["secure"] and c["sameSite"] == "Strict" and c["path"] == "/",
                  "refresh cookie: __Host-, HttpOnly; Secure; SameSite=Strict; Path=/", c)
        run.check(c["domain"] == API_HOST, "refresh cookie is host-only on the API host", c)
        me = ev(page, "() => app.me()")
        run.check(me.get("email") == EMAIL, "GET /users/me is the signed-in user", me)

    # -- create a space -------------------------------------------------------------------------
    def create_space():
        r = ev(page, "([n]) => app.createSpace(n)", "Physics 101")
        run.check(r["status"] == 201, "POST /spaces answers 201", r)
        run.check(bool(r.get("location")), "Location is readable cross-origin (exposed)", r)
        s["space"] = r["space"]["spaceId"]
        # What a form gets back when the input is wrong: a problem a UI can show.
        for body in ({"name": "x" * 1000}, {"name": "Physics", "colour": "red"}, {"description": "no name"}):
            bad = ev(page, "([b]) => app.call('POST', '/spaces', b)", body)
            run.check(bad["status"] in (400, 413, 422) and is_problem(bad) and bad["body"].get("detail"),
                      f"a bad space ({', '.join(body)}) is a 4xx problem with a detail", bad)

    # -- presigned PUT ------------------------------------------------------------------------
    def upload_single():
        page.set_input_files("#upload-file", str(clips["small"]))
        r = ev(page, "([s, t]) => app.uploadSingle(s, 'upload-file', t)", s["space"], "Waves")
        run.check(r["video"]["status"] == "UPLOADING", "the new video is UPLOADING", r["video"])
        run.check(r["upload"].get("kind") == "single", "a small clip is one presigned PUT", r["upload"])
        run.check(parse_rfc3339(r["upload"].get("expiresAt")) is not None, "upload expiresAt is RFC 3339", r["upload"])
        run.require(r["put"]["status"] == 200, "the browser's PUT to S3 succeeded", r["put"])
        bar = page.evaluate("() => { const b = document.getElementById('upload-progress'); return [b.value, b.max]; }")
        run.check(bar[0] == bar[1] == r["video"]["sizeBytes"], "the progress bar counted every byte", bar)
        s["small"] = r["video"]["videoId"]

    # -- multipart, interrupted, reloaded, resumed ----------------------------------------------
    def upload_multipart():
        page.set_input_files("#upload-file", str(clips["large"]))
        dropped = []

        def is_part_2(url: str) -> bool:
            return "x-id=UploadPart" in url and re.search(r"[?&]partNumber=2(&|$)", url) is not None

        def drop(route):
            dropped.append(route.request.url)
            route.abort("connectionreset")

        page.route(is_part_2, drop)
        r = ev(page, "([s, t]) => app.startMultipart(s, 'upload-file', t)", s["space"], "Long lecture")
        page.unroute(is_part_2)
        up = r["upload"]
        run.require(up.get("kind") == "multipart", "a 20 MiB file is multipart above the 8 MiB threshold", up)
        run.check(up.get("partSize", 0) >= 8 * MIB and up.get("parts") == 3, "three parts of at least 8 MiB", up)
        run.check(parse_rfc3339(up.get("expiresAt")) is not None, "multipart expiresAt is RFC 3339", up)
        run.require(r["puts"] and r["puts"][0]["status"] == 200 and r["puts"][0]["etag"],
                    "part 1 uploaded and its ETag readable (S3 CORS exposes ETag)", r["puts"])
        run.require(bool(r.get("interrupted")) and dropped, "part 2 broke off (connection reset)", r)
        s["large"] = r["video"]["videoId"]
        s["part1_etag"] = r["puts"][0]["etag"]

        page.reload()
        b = booted()
        run.require(b.get("signedIn") and b.get("source") == "cookie", "after the reload the cookie signs the page in", b)
        pending = ev(page, "() => app.pendingUpload()")
        run.require(pending and pending["videoId"] == s["large"], "the page remembers the unfinished upload", pending)
        keys = ev(page, "() => Object.keys(localStorage).filter((k) => k.startsWith('vivid.multipart'))")
        run.check(len(keys) == 1 and keys[0].startswith("vivid.multipart.") and len(keys[0]) > len("vivid.multipart."),
                  "the resume record is kept under the user's id", keys)
        page.set_input_files("#upload-file", str(clips["large"]))  # the person picks the file again
        r = ev(page, "() => app.resumeMultipart('upload-file')")
        listing = r["listing"]
        uploaded = listing.get("uploadedParts") or []
        run.check([p.get("partNumber") for p in uploaded] == [1], "S3 has part 1 only", listing)
        run.check(uploaded and uploaded[0].get("etag") == s["part1_etag"] and uploaded[0].get("size") == 8 * MIB,
                  "the listed part 1 has the ETag and size the page saw", uploaded)
        run.check(parse_rfc3339(listing.get("expiresAt")) is not None, "parts expiresAt is RFC 3339", listing)
        run.check(r["skipped"] == [1] and [p["partNumber"] for p in r["puts"]] == [2, 3],
                  "the page uploaded only parts 2 and 3", r)
        run.require(r.get("complete", {}).get("status") in (200, 202, 204), "the upload completed", r.get("complete"))

    # -- READY ------------------------------------------------------------------------------
    def wait_ready():
        for key, duration in (("small", 10), ("large", 6)):
            r = ev(page, "([v]) => app.waitReady(v, 120000)", s[key])
            v = r["video"]
            run.require(v["status"] == "READY", f"the {key} video became READY", r)
            bar = page.evaluate("() => [document.getElementById('transcode-progress').value, document.getElementById('transcode-label').textContent]")
            run.check(bar == [100, "READY 100 %"], "the transcoding bar is full", bar)
            run.check(v.get("percentComplete") == 100, "READY is 100 percent", v)
            run.check(abs((v.get("durationSeconds") or 0) - duration) < 0.5, f"duration is about {duration} s", v)
            statuses = [x["status"] for x in r["seen"]]
            run.check(all(st in ("UPLOADING", "UPLOADED", "TRANSCODING", "READY") for st in statuses),
                      "only forward states on the way", r["seen"])
            pct = [x["percentComplete"] for x in r["seen"] if x["percentComplete"] is not None]
            run.check(pct == sorted(pct), "percentComplete never goes back", r["seen"])
            states = [x["status"] + ("" if x["percentComplete"] is None else f" {x['percentComplete']}%") for x in r["seen"]]
            log(f"   {key}: {' -> '.join(states)}")

    # -- the access token expired meanwhile; the cookie kept the page signed in ------------------
    def past_token_lifetime():
        wait = s["t0_at"] + s["t0_ttl"] + TOKEN_LEEWAY + 1 - time.time()
        if wait > 90:
            run.require(False, f"the access token lives {s['t0_ttl']} s: too long to outlive here (needs AccessTokenTtlSeconds)")
        if wait > 0:
            log(f"   waiting {wait:.0f} s for the first token to expire")
            time.sleep(wait)
        old = ev(page, "([t]) => app.callWithToken(t, 'GET', '/users/me')", s["t0"])
        run.check(old["status"] == 401, "the first access token has expired", old)
        me = ev(page, "() => app.me()")
        run.check(me.get("email") == EMAIL, "the page is still signed in", me)
        refreshes = ev(page, "() => app.refreshes()")
        run.require(any(x["status"] == 200 for x in refreshes), "the page refreshed through the cookie", refreshes)
        for x in refreshes:
            if x["status"] != 200:
                continue
            run.check(not x["refreshTokenInBody"], "a cookie refresh keeps the refresh token out of the body", x)
            run.check("no-store" in (x["cacheControl"] or ""), "token responses are Cache-Control: no-store", x)
            run.check(x["keys"] == ["accessToken", "expiresIn", "tokenType"], "{accessToken, tokenType, expiresIn}", x)
            run.check(x["expiresIn"] == ACCESS_TTL, "refreshed tokens have the same lifetime", x)
        log(f"   {len(refreshes)} refreshes through the cookie so far")

    # -- HLS with hls.js --------------------------------------------------------------------------
    def play():
        before = time.time()
        r = ev(page, "([v]) => app.play(v)", s["small"])
        g = r["grant"]
        run.require(g["status"] == 200, "GET /videos/{id}/playback answers", g)
        body = g["body"]
        for k in ("hlsUrl", "mp4Url", "posterUrl", "signedQuery", "expiresAt"):
            run.check(k in body, f"playback has {k}", body)
        exp = parse_rfc3339(body.get("expiresAt"))
        run.check(exp is not None, "playback expiresAt is RFC 3339", body.get("expiresAt"))
        if exp:
            run.check(exp.timestamp() >= before + 10, "the grant lasts at least the video's duration", body.get("expiresAt"))
        run.check(not [e for e in r.get("errors", []) if e.get("fatal")], "no fatal hls.js error", r.get("errors"))
        run.require(r.get("currentTime", 0) >= r.get("startedAt", 0) + 1.5 and not r.get("paused"),
                    "playback advances (currentTime moves)", r)
        run.check(r["frame"]["litFraction"] > 0.3 and r["frame"]["colours"] >= 8,
                  "a decoded frame is drawn (not black)", r["frame"])
        run.check(len(r.get("levels") or []) >= 2, "the HLS ladder has several renditions", r.get("levels"))
        log(f"   played {r['startedAt']:.2f} -> {r['currentTime']:.2f} s, {r['videoWidth']}x{r['videoHeight']}, frame {r['frame']}")
        s["playback"] = body

        media = ev(page, "([u]) => app.fetchMedia(u)", body["hlsUrl"])
        run.check(media["status"] == 200 and media["bytes"] > 0, "the CDN serves the page a playlist (CORS)", media)
        bare = ev(page, "([u]) => app.fetchMedia(u)", body["hlsUrl"].split("?")[0])
        run.check(bare["status"] == 403, "without the grant the CDN refuses", bare)

        mp4 = ev(page, "([t]) => app.playMp4(t)", 7.0)
        run.check(not mp4.get("error") and abs((mp4.get("duration") or 0) - 10) < 0.5, "the MP4 loads in a <video>", mp4)
        run.check(abs((mp4.get("seekedTo") or 0) - 7.0) < 0.5 and mp4.get("currentTime", 0) > 7.5,
                  "the MP4 seeks (byte ranges) and plays", mp4)
        run.check(isinstance(mp4.get("litFraction"), float) and mp4["litFraction"] > 0.3,
                  "the MP4 frame is readable (CDN CORS for crossorigin media)", mp4)
        run.check(mp4.get("poster", {}).get("loaded"), "the poster loads", mp4.get("poster"))

        renewed = ev(page, "([v]) => app.renewPlayback(v)", s["small"])
        run.check(renewed["status"] == 200 and renewed["body"].get("signedQuery"), "the grant renews", renewed)
        t = page.evaluate("() => document.getElementById('video').currentTime")
        page.wait_for_function(f"() => document.getElementById('video').currentTime > {t + 1}", timeout=15000)
        log("   playback goes on with the renewed grant")

    # -- captions as a subtitles rendition ------------------------------------------------------
    def captions():
        vtt = "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nToday we study waves.\n\n00:00:05.000 --> 00:00:08.000\nA wave carries energy.\n"
        r = ev(page, "([v, t]) => app.captions(v, t)", s["small"], vtt)
        run.require(r["put"]["status"] in (200, 201), "PUT /videos/{id}/captions/en takes a WebVTT file", r["put"])
        run.check([t.get("lang") for t in r.get("tracks") or []] == ["en"],
                  "hls.js finds the track among the master's subtitles renditions", r.get("tracks"))
        run.check("Today we study waves." in (r.get("texts") or []), "hls.js loads the cues into the <video>'s text track", r)
        run.check(not [e for e in r.get("errors", []) if e.get("fatal")], "no fatal hls.js error", r.get("errors"))
        run.check(any(c.get("lang") == "en" for c in r.get("captions") or []), "the grant lists the track's file", r.get("captions"))
        log(f"   subtitles: {r.get('tracks')}, {len(r.get('texts') or [])} cues loaded")

    # -- seek, progress ------------------------------------------------------------------------
    def progress():
        sk = ev(page, "([t]) => app.seek(t)", 6.0)
        run.check(abs(sk["currentTime"] - 6.0) < 0.1, "the player seeked to 6 s", sk)
        run.check(sk["frame"]["litFraction"] > 0.3, "the frame after the seek is drawn", sk)
        r = ev(page, "([v]) => app.saveProgress(v)", s["small"])
        run.check(r["put"]["status"] in (200, 204), "PUT progress succeeds", r["put"])
        p = r.get("progress") or {}
        run.check(abs((p.get("positionSeconds") or -1) - r["sent"]["positionSeconds"]) < 0.001
                  and p.get("progressRate") == r["sent"]["progressRate"], "GET /videos/{id} gives the progress back", r)

    # -- text memo with If-Match -------------------------------------------------------------------
    def memo():
        r = ev(page, "([v, t]) => app.saveMemo(v, t)", s["small"], "Waves carry energy, not matter")
        run.check(r["read"]["status"] == 200 and r["read"]["etag"] == '"0"', 'an empty memo reads with ETag "0"', r["read"])
        run.check(r["first"]["status"] in (200, 201) and r["first"]["etag"] == '"1"',
                  'If-Match: "0" creates the first version', r["first"])
        run.check(r["second"]["status"] == 200 and r["second"]["etag"] == '"2"',
                  "If-Match with the current ETag saves", r["second"])
        run.check(r["stale"]["status"] == 412 and is_problem(r["stale"]),
                  "a stale If-Match is 412 problem+json", r["stale"])
        run.check(r["createOnly"]["status"] == 412, "If-None-Match: * on an existing memo is 412", r["createOnly"])
        run.check(r["any"]["status"] == 200 and r["any"]["etag"] == '"3"', "If-Match: * saves over any version", r["any"])
        final = r["final"]["body"]
        run.check("(final)" in (final.get("stateJson") or "") and final.get("version") == 3,
                  "the memo reads back at version 3", final)
        run.check(parse_rfc3339(final.get("updatedAt")) is not None, "updatedAt is RFC 3339", final)

    # -- overlay drawing ---------------------------------------------------------------------------
    def overlay():
        ev(page, "([t]) => app.seek(t)", 2.0)
        box = page.locator("#overlay").bounding_box()
        page.mouse.move(box["x"] + 100, box["y"] + 100)
        page.mouse.down()
        for i in range(1, 21):
            page.mouse.move(box["x"] + 100 + i * 20, box["y"] + 100 + i * 8)
        page.mouse.up()
        r = ev(page, "([v, d, a, b]) => app.saveOverlay(v, d, a, b)", s["small"], "overlay-1", 1.0, 4.0)
        run.check(r["put"]["status"] == 201, "PUT drawing creates it (201)", r["put"])
        got = r["got"]
        run.check(got.get("kind") == "overlay" and got.get("startSeconds") == 1.0 and got.get("endSeconds") == 4.0,
                  "the overlay reads back between its timestamps", got)
        run.check(got.get("document") == r["sent"], "the document reads back as sent", {"sent": r["sent"], "got": got})
        run.check(len(r["sent"]["strokes"]) == 1 and len(r["sent"]["strokes"][0]["points"]) >= 10,
                  "the mouse drew one stroke", r["sent"])
        run.check(any(d.get("drawingId") == "overlay-1" for d in r["listed"]), "the drawing is listed", r["listed"])
        inside = ev(page, "([t]) => app.overlayAt(t)", 2.5)
        outside = ev(page, "([t]) => app.overlayAt(t)", 6.0)
        run.check(inside["ink"] > 100, "the overlay shows between 1 s and 4 s", inside)
        run.check(outside["ink"] == 0, "the overlay hides outside its window", outside)

    # -- snapshot -----------------------------------------------------------------------------------
    def snapshot():
        ev(page, "([t]) => app.seek(t)", 3.0)
        r = ev(page, "([v]) => app.snapshot(v)", s["small"])
        run.check(r["created"]["status"] == 201, "POST snapshots answers 201", r["created"])
        up = r["created"]["body"].get("upload") or {}
        run.check(parse_rfc3339(up.get("expiresAt")) is not None, "snapshot upload expiresAt is RFC 3339", up)
        run.require(r["put"]["status"] == 200, "the snapshot PUT to S3 succeeded", r["put"])
        run.require(r.get("item") is not None, "GET snapshots lists it", r)
        run.check(abs(r["item"]["videoSeconds"] - 3.0) < 0.1, "at the frame's time", r["item"])
        rb = r.get("readBack") or {}
        run.check(rb.get("status") == 200 and rb.get("same"), "its URL gives back the very PNG (CORS GET)", rb)
        run.check(rb.get("imageWidth") == r["frameWidth"] and r["frameWidth"] > 0, "the image loads in the page", r)

    # -- Webex ----------------------------------------------------------------------------------------
    def webex():
        login = ev(page, "() => app.webexLogin()")
        run.require(login["status"] == 200 and (login.get("body") or {}).get("authorizeUrl"),
                    "GET /webex/login gives {authorizeUrl} to an authenticated fetch", login)
        page.evaluate("() => { app.webexConnect(); }")
        page.wait_for_url(re.compile(r"/webex-connected\.html\?"), timeout=30000)
        r = page.evaluate("() => window.webexResult")
        run.require((r.get("boot") or {}).get("signedIn"), "the Webex return page is signed in by the cookie", r)
        run.require(r.get("status") in (200, 201, 204), "POST /webex/token {code, state} connects Webex", r)
        run.check(r.get("webexConnected") is True, "GET /users/me says webexConnected", r)
        page.goto(f"{app}/index.html")
        run.require(booted().get("signedIn"), "back in the app", booted())
        imp = ev(page, "([sp]) => app.webexImport(sp)", s["space"])
        recs = imp.get("recordings") or []
        run.require(bool(recs), "the Webex stand-in lists a recording", imp)
        run.check(parse_rfc3339(recs[0].get("timeRecorded")) is not None, "timeRecorded is RFC 3339", recs[0])
        i = imp.get("imported") or {}
        run.require(i.get("status") == 202 and i["body"].get("status") == "IMPORTING", "the import starts (202 IMPORTING)", i)
        ready = imp.get("ready") or {}
        run.check(ready.get("video", {}).get("status") == "READY", "the imported recording becomes READY", ready)

    # -- Zoom ---------------------------------------------------------------------------------------
    def zoom():
        login = ev(page, "() => app.zoomLogin()")
        run.require(login["status"] == 200 and (login.get("body") or {}).get("authorizeUrl"),
                    "GET /zoom/login gives {authorizeUrl} to an authenticated fetch", login)
        page.evaluate("() => { app.zoomConnect(); }")
        page.wait_for_url(re.compile(r"/zoom-connected\.html\?"), timeout=30000)
        r = page.evaluate("() => window.zoomResult")
        run.require((r.get("boot") or {}).get("signedIn"), "the Zoom return page is signed in by the cookie", r)
        run.require(r.get("status") in (200, 201, 204), "POST /zoom/token {code, state} connects Zoom", r)
        run.check(r.get("zoomConnected") is True, "GET /users/me says zoomConnected", r)
        page.goto(f"{app}/index.html")
        run.require(booted().get("signedIn"), "back in the app", booted())
        imp = ev(page, "([sp]) => app.zoomImport(sp)", s["space"])
        meetings = imp.get("meetings") or []
        run.require(bool(meetings) and not imp.get("error"), "the Zoom stand-in lists a meeting with an MP4", imp)
        run.check(parse_rfc3339(meetings[0].get("startTime")) is not None, "startTime is RFC 3339", meetings[0])
        i = imp.get("imported") or {}
        run.require(i.get("status") == 202 and i["body"].get("status") == "IMPORTING", "the import starts (202 IMPORTING)", i)
        run.check(bool(i.get("location")), "the 202 names the video in Location", i)
        ready = imp.get("ready") or {}
        run.check(ready.get("video", {}).get("status") == "READY", "the imported recording becomes READY", ready)
        run.check(abs((ready.get("video", {}).get("durationSeconds") or 0) - 10) < 0.5, "of the clip's duration", ready)

    # -- log out -------------------------------------------------------------------------------------
    def logout():
        bad = ev(page, """() => import('/app/session.js').then(async (m) => {
            const key = m.resumeKey();
            const seen = [];
            for (const v of ['{"videoId":1}', 'not json', '{"videoId":"v","fileName":"f","size":1,"lastModified":1,"partSize":0,"parts":1,"etags":{}}']) {
              localStorage.setItem(key, v);
              seen.push(app.pendingUpload());
            }
            localStorage.setItem(key, '{"videoId":"v","fileName":"f","size":1,"lastModified":1,"partSize":1,"parts":1,"etags":{"1":"e"}}');
            seen.push(app.pendingUpload() !== null);
            return seen;
          })""")
        run.check(bad == [None, None, None, True], "a malformed resume record is dropped, a well-formed one read", bad)
        r = ev(page, "() => app.logout()")
        kept = ev(page, "() => Object.keys(localStorage).filter((k) => k.startsWith('vivid.multipart'))")
        run.check(kept == [], "logout removes the user's resume record", kept)
        run.check(r["logout"]["status"] == 204, "POST /auth/logout with the cookie alone answers 204", r["logout"])
        run.check(r["refreshAfter"]["status"] == 401, "after logout the cookie refresh fails (401)", r["refreshAfter"])
        run.check(is_problem({"body": r["refreshAfter"]["body"], "contentType": r["refreshAfter"]["contentType"]}),
                  "the 401 is problem+json a UI can show", r["refreshAfter"])
        left = [c for c in ctx.cookies() if c["name"] == REFRESH_COOKIE and c["domain"] == API_HOST]
        run.check(not left, "the refresh cookie is gone", left)
        page.reload()
        run.check(booted().get("signedIn") is False, "a reload after logout is signed out", booted())

    run.step("the stack serves the study page (web/)", lambda: study.served(run, stack), needed=False)
    run.step("sign-in's landing page keeps the token on its origin", lambda: study.signed_in_stays(run, browser, stack),
             needed=False)
    run.step("a link with someone else's token signs nobody in", lambda: study.foreign_token(run, browser, stack),
             needed=False)
    run.step("sign in with Google (redirect flow)", sign_in)
    run.step("create a space", create_space)
    run.step("upload a clip with the presigned PUT", upload_single)
    run.step("multipart upload, page reloaded mid-way, resumed", upload_multipart)
    run.step("wait for READY", wait_ready)
    run.step("play HLS with hls.js, renew the grant", play)
    run.step("captions as an HLS subtitles rendition (hls.js)", captions, needed=False)
    run.step("seek and save progress", progress, needed=False)
    run.step("save the text memo with If-Match", memo, needed=False)
    run.step("draw an overlay between two timestamps", overlay, needed=False)
    run.step("draw over the playing video, read it back, see it as it plays", lambda: study.overlay_playing(run, page, s),
             needed=False)
    run.step("snapshot the current frame", snapshot, needed=False)
    run.step("bookmark a moment, search the space", lambda: study.bookmarks_search(run, page, s), needed=False)
    run.step("an invitation's link: signed in there and accepted", lambda: study.invitation(run, browser, stack, page, s),
             needed=False)
    run.step("the page's own controls: space, upload, open, draw, memo, bookmark, page, snapshot, search",
             lambda: study.by_controls(run, page, clips), needed=False)
    run.step("watched coverage: the lecture played and paused, then played as the page goes",
             lambda: study.watched(run, page), needed=False)
    run.step("connect Webex and import a recording", webex, needed=False)
    run.step("connect Zoom and import a recording", zoom, needed=False)
    run.step("stay signed in past the access token's lifetime", past_token_lifetime, needed=False)
    run.step("log out", logout, needed=False)
    ctx.close()
