"""The study page's own steps (flow.py runs them among the others): the stack serves the page
(files, /config.js, the page at /invitations/{code}, nothing outside web/), a drawing made over the
playing video read back through the API and seen as the video plays, bookmarks and search, and an
invitation's link followed by another person, who signs in there and accepts it; the page sign-in
returns to keeps the fragment (the access token) on this origin whatever `next` it is given; a
link carrying someone else's token signs nobody in (login CSRF); a broken invitation link says so; the
watched coverage the page reports while a lecture plays, on pause and as the page goes."""

from __future__ import annotations

import http.client
import json
import re
from urllib.parse import urlsplit

from runner.config import EMAIL, log
from runner.servers import LocalStack
from runner.steps import Run, ev


def get(stack: LocalStack, path: str, method: str = "GET") -> tuple[int, str, bytes]:
    """One request to the page's server, the path sent exactly as written."""
    conn = http.client.HTTPConnection("127.0.0.1", stack.page_port, timeout=10)
    try:
        conn.putrequest(method, path, skip_host=True)
        conn.putheader("Host", stack.origin.removeprefix("http://"))
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.getheader("content-type") or "", resp.read()
    finally:
        conn.close()


def served(run: Run, stack: LocalStack) -> None:
    status, ctype, body = get(stack, "/")
    run.check(status == 200 and ctype.startswith("text/html") and b'id="study-page"' in body, "/ is the study page", (status, ctype))
    status, ctype, body = get(stack, "/config.js")
    run.check(status == 200 and ctype.startswith("text/javascript") and stack.api.encode() in body,
              "/config.js names the API", (status, ctype, body[:200]))
    for path in ("/app/session.js", "/vendor/hls.js/hls.min.mjs"):
        status, ctype, _ = get(stack, path)
        run.check(status == 200 and ctype.startswith("text/javascript"), f"{path} is JavaScript (ES modules need it)", (status, ctype))
    status, ctype, _ = get(stack, "/style.css")
    run.check(status == 200 and ctype.startswith("text/css"), "/style.css is CSS", (status, ctype))
    status, ctype, body = get(stack, "/invitations/some-code")
    run.check(status == 200 and b'id="study-page"' in body, "/invitations/{code} is the page (invitation e-mails link there)", status)
    for path in ("/../Cargo.toml", "/%2e%2e/Cargo.toml", "/app/%2E%2E/%2e%2e/template.yaml", "/..%2fCargo.toml",
                 "/.git/config", "/vendor/../../README.md", "/missing.js"):
        status, _, body = get(stack, path)
        run.check(status == 404 and b"[workspace]" not in body, f"{path} is not served (404)", (status, body[:80]))
    status, _, _ = get(stack, "/index.html", "POST")
    run.check(status == 405, "only GET and HEAD", status)


# `next` values that a check on the raw text lets through or that point elsewhere: browsers drop the
# tab of the first one, which then reads "//evil.example/x"; "/.//evil.example" resolves on this
# origin to the path "//evil.example", which a path rebuilt from it would follow off the origin.
FOREIGN_NEXT = ("%2F%09%2Fevil.example%2Fx", "%2F%2Fevil.example%2F", "https%3A%2F%2Fevil.example%2F",
                "%2F%5Cevil.example%2F", "%2F%0A%2Fevil.example%2F", "%2F.%2F%2Fevil.example",
                "%2F..%2F%2Fevil.example", "%2Fa%2F..%2F%2Fevil.example", "%2F%252e%2F%2Fevil.example")


def signed_in_stays(run: Run, browser, stack: LocalStack) -> None:
    """signed-in.html?next=… never carries the fragment (#accessToken=…) off the page's origin."""
    ctx = browser.new_context()
    try:
        hosts: list[str] = []
        ctx.on("request", lambda r: hosts.append(urlsplit(r.url).hostname or r.url))
        page = ctx.new_page()
        landed = []
        for nxt in FOREIGN_NEXT:
            page.goto(f"{stack.origin}/signed-in.html?next={nxt}#accessToken=not-a-token")
            page.wait_for_url(lambda url: "signed-in.html" not in url, timeout=15000)
            landed.append(page.url)
        run.check(not any(h == "evil.example" for h in hosts), "no request leaves for another origin", hosts)
        own = urlsplit(stack.origin).netloc
        run.check(all(urlsplit(u).netloc == own for u in landed), "every foreign next stays on the page's origin", landed)
    finally:
        ctx.close()


def foreign_token(run: Run, browser, stack: LocalStack) -> None:
    """A link with another account's real access token in the fragment (#accessToken=…), straight
    to the page or through signed-in.html with a guessed sign-in value, signs the page in to nothing;
    an invitation link that does not percent-decode says so; a look-alike origin is not this one; only
    an http(s) authorize address is followed."""
    conn = http.client.HTTPConnection("127.0.0.1", int(stack.api.rsplit(":", 1)[1]), timeout=10)
    try:
        conn.request("GET", "/_local/token?email=mallory@example.com")
        theirs = json.loads(conn.getresponse().read())["accessToken"]
    finally:
        conn.close()
    fragment = f"#accessToken={theirs}&tokenType=Bearer&expiresIn=60"
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        for url in (f"{stack.origin}/index.html{fragment}",
                    f"{stack.origin}/signed-in.html?next=%2Findex.html%3Fsignin%3Dguess{fragment}"):
            page.goto(url)
            page.wait_for_url(lambda u: "signed-in.html" not in u, timeout=15000)
            b = page.evaluate("() => window.booted")
            token = page.evaluate("() => window.vividState.token")
            run.check(b.get("signedIn") is False and b.get("error") == "foreign_sign_in" and token is None,
                      "a link with someone else's token is not signed in", {"url": url, "boot": b})
            run.check("accessToken" not in page.url and "signin=" not in page.url, "the foreign token left the address bar", page.url)
        for bad in ("%E0", "%ZZ"):
            page.goto(f"{stack.origin}/invitations/{bad}")
            page.wait_for_function("() => document.getElementById('invitation-text')?.textContent", timeout=15000)
            text = page.text_content("#invitation-text")
            run.check(text == "invalid invitation link", f"/invitations/{bad} says it is an invalid invitation link", text)
        same = page.evaluate("""() => import('/app/connectors.js').then((m) => [
            m.sameOrigin(location.origin + '/zoom-connected.html'),
            m.sameOrigin(location.origin + '.evil.example/zoom-connected.html'),
            m.sameOrigin('not an address')])""")
        run.check(same == [True, False, False], "a return address on a look-alike host is not this origin", same)
        followed = page.evaluate("""() => import('/app/connectors.js').then((m) => [
            'https://webexapis.com/v1/authorize?x=1', 'http://127.0.0.1:9/authorize', 'javascript:alert(1)',
            'data:text/html,<p>x</p>', 'JavaScript:alert(1)', 'not an address'].map((a) => m.webAddress(a)?.href ?? null))""")
        run.check(followed == ["https://webexapis.com/v1/authorize?x=1", "http://127.0.0.1:9/authorize", None, None, None, None],
                  "only an http(s) authorizeUrl is followed", followed)
    finally:
        ctx.close()


def overlay_playing(run: Run, page, s: dict) -> None:
    """Draws over the video while it plays; the drawing starts when its first stroke did."""
    ev(page, "([t]) => app.seek(t)", 5.0)
    page.fill("#pen-color", "#00ff00")
    page.evaluate("() => document.getElementById('video').play()")
    page.wait_for_function("() => document.getElementById('video').currentTime > 5.3", timeout=15000)
    before = page.evaluate("() => document.getElementById('video').currentTime")
    box = page.locator("#overlay").bounding_box()
    page.mouse.move(box["x"] + 400, box["y"] + 60)
    page.mouse.down()
    for i in range(1, 16):
        page.mouse.move(box["x"] + 400 - i * 15, box["y"] + 60 + i * 12)
        page.wait_for_timeout(20)  # a person's pace: the video plays on under the pen
    page.mouse.up()
    after = page.evaluate("() => { const v = document.getElementById('video'); return [v.currentTime, v.paused]; }")
    run.require(after[0] > before and not after[1], "the video played on while the pen drew", {"before": before, "after": after})
    start = ev(page, "() => app.pendingStart()")
    run.require(start is not None and before - 0.01 <= start <= after[0], "the drawing begins when its first stroke did", start)
    r = ev(page, "([v, d]) => app.saveOverlay(v, d)", s["small"], "overlay-playing")
    run.check(r["put"]["status"] == 201, "PUT drawing creates it (201)", r["put"])
    strokes = r["sent"]["strokes"]
    run.check(len(strokes) == 1 and strokes[0]["color"] == "#00ff00" and len(strokes[0]["points"]) >= 10,
              "one green stroke was drawn", strokes)
    # Read back through the API, apart from what the page keeps.
    got = ev(page, "([p]) => app.call('GET', p)", f"/videos/{s['small']}/drawings/overlay-playing")
    body = got["body"]
    run.require(got["status"] == 200, "GET the drawing answers 200", got)
    run.check(body.get("document") == r["sent"], "the drawing reads back as drawn", {"sent": r["sent"], "got": body})
    run.check(body.get("kind") == "overlay" and body.get("startSeconds") == start
              and abs(body.get("endSeconds", 0) - (start + 3)) < 0.001, "on its time range (from the first stroke, 3 s)", body)
    # Seen as the video plays through its range, and not after.
    seen = ev(page, "([a, b]) => app.overlayWhilePlaying(a, b)", max(start - 1.0, 4.1), start + 0.5)
    run.check(not seen["paused"] and start <= seen["currentTime"] < start + 3, "the video plays inside the range", seen)
    run.check(seen["ink"] > 100, "the drawing shows over the playing video", seen)
    later = ev(page, "([t]) => app.overlayAt(t)", min(start + 3.5, 9.8))
    run.check(later["ink"] == 0, "and hides after its range", later)
    page.fill("#pen-color", "#ff00ff")


def bookmarks_search(run: Run, page, s: dict) -> None:
    ev(page, "([t]) => app.seek(t)", 4.0)
    r = ev(page, "([v, l]) => app.addBookmark(v, l)", s["small"], "Energy moves")
    run.check(r["status"] == 201 and abs(r["bookmark"]["videoSeconds"] - 4.0) < 0.1, "a bookmark at 4 s", r)
    listed = ev(page, "([v]) => app.listBookmarks(v)", s["small"])
    run.check(any(b["label"] == "Energy moves" for b in listed), "the bookmark is listed", listed)
    found = ev(page, "([sp, q]) => app.search(sp, q)", s["space"], "Waves")
    run.check(any(h["videoId"] == s["small"] for h in found["items"]), "search finds the lecture by its title", found)


def invitation(run: Run, browser, stack: LocalStack, page, s: dict) -> None:
    made = ev(page, "([sp]) => app.invite(sp, [], 'participant')", s["space"])
    link = made[0]["joinUrl"]
    run.require(link.startswith(f"{stack.origin}/invitations/"), "the invitation links to the study page", made)
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        other = ctx.new_page()
        other.goto(link)
        b = other.evaluate("() => window.booted")
        run.check(b.get("signedIn") is False, "a newcomer is not signed in", b)
        run.check(other.is_visible("#invitation"), "the page shows the invitation", other.url)
        other.click("#sign-in")
        other.wait_for_selector("input[name=email]")
        other.fill("input[name=email]", "ben@example.com")
        other.fill("input[name=name]", "Ben Example")
        with other.expect_navigation(url=re.compile(r"/invitations/"), timeout=30000):
            other.click("button[type=submit]")
        b = other.evaluate("() => window.booted")
        run.require(b.get("signedIn"), "sign-in returns to the invitation, signed in", {"boot": b, "url": other.url})
        other.click("#invitation-accept")
        other.wait_for_function("() => document.getElementById('invitation-text').textContent === 'Joined.'", timeout=15000)
        space = ev(other, "([p]) => app.call('GET', p)", f"/spaces/{s['space']}")
        run.check(space["status"] == 200 and space["body"].get("role") == "participant", "Ben is a participant now", space)
        me = ev(page, "() => app.me()")
        run.check(me.get("email") == EMAIL, "the host's page is still signed in as the host", me)
    finally:
        ctx.close()


def by_controls(run: Run, page, clips: dict) -> None:
    """A person's way through the page's own controls: a space made, a lecture uploaded and opened
    once READY, a drawing over it, the memo and a checkpoint, a bookmark, a drawing page, a
    snapshot, a search."""

    def count(list_id: str, n: int = 1) -> None:
        page.wait_for_function(f"() => document.querySelectorAll('#{list_id} li').length >= {n}", timeout=30000)

    page.fill("#new-space-name", "Optics")
    page.click("#new-space button[type=submit]")
    page.wait_for_function("() => document.getElementById('space-name').textContent === 'Optics'", timeout=15000)
    page.set_input_files("#upload-file", str(clips["small"]))
    page.fill("#upload-title", "Lenses")
    page.click("#upload button[type=submit]")
    page.wait_for_function("() => document.body.dataset.video && document.getElementById('video-title').textContent === 'Lenses'",
                           timeout=180000)
    video = page.evaluate("() => document.body.dataset.video")
    state = page.evaluate("""() => [document.getElementById('upload-label').textContent,
        document.getElementById('transcode-label').textContent, document.getElementById('video').readyState]""")
    run.check(state[0] == "100 %" and state[1] == "READY 100 %" and state[2] >= 2,
              "uploaded (100 %), transcoded (READY) and loaded in the player", state)
    page.evaluate("() => document.getElementById('video').currentTime = 2")
    box = page.locator("#overlay").bounding_box()
    page.mouse.move(box["x"] + 200, box["y"] + 200)
    page.mouse.down()
    for i in range(1, 11):
        page.mouse.move(box["x"] + 200 + i * 10, box["y"] + 200 - i * 5)
    page.mouse.up()
    page.click("#overlay-save")
    page.fill("#memo", "Lenses bend light")
    page.click("#memo-save")
    page.wait_for_function("() => document.getElementById('memo-status').textContent.startsWith('saved')", timeout=15000)
    page.click("#memo-checkpoint")
    count("memo-history")
    page.fill("#bookmark-label", "Focal point")
    page.click("#bookmark button[type=submit]")
    count("bookmarks")
    box = page.locator("#page-canvas").bounding_box()
    page.mouse.move(box["x"] + 50, box["y"] + 50)
    page.mouse.down()
    page.mouse.move(box["x"] + 150, box["y"] + 120)
    page.mouse.up()
    page.click("#page-save")
    count("drawings")
    page.click("#snapshot-take")
    count("snapshots")
    drawings = ev(page, "([p]) => app.call('GET', p)", f"/videos/{video}/drawings")
    kinds = sorted(d["kind"] for d in drawings["body"]["items"])
    run.check(kinds == ["overlay", "page"], "the drawing over the video and the drawing page are saved", drawings)
    memo = ev(page, "([p]) => app.call('GET', p)", f"/videos/{video}/text-memo")
    run.check("Lenses bend light" in (memo["body"].get("stateJson") or ""), "the memo is saved", memo)
    page.fill("#search-q", "Lenses")
    page.click("#search button[type=submit]")
    count("search-results")
    errors = [line for line in run.console if line.startswith("[log] [vivid]") and " error: " in line]
    run.check(not errors, "no control failed", errors)


SETTLED = "() => import('/app/watching.js').then((m) => m.settled())"


def watched(run: Run, page) -> None:
    """Watched coverage (issue 29) as the page reports it: the lecture the page's controls opened
    (by_controls: Lenses, 10 s) played with the page's Play button from 3.2 s for a few seconds and
    paused; the page's reports (POST /videos/{id}/watching) are all taken, GET gives a range from
    near where playing began, and the page says "watched N %" as GET does. Then played again from
    8.3 s and the page reloaded while it plays: the report sent on pagehide (keepalive) arrives."""
    video = page.evaluate("() => document.body.dataset.video")
    run.require(bool(video), "a lecture is open in the page", video)
    path = f"/videos/{video}/watching"
    first = ev(page, SETTLED)
    run.require(bool(first) and first["videoId"] == video, "the page watches the open lecture", first)
    before = ev(page, "([p]) => app.call('GET', p)", path)
    run.require(before["status"] == 200, "GET /videos/{id}/watching answers 200", before)
    log(f"   before: {before['body']}")

    ev(page, "([t]) => app.seek(t)", 3.2)
    began = page.evaluate("() => document.getElementById('video').currentTime")
    run.check(not any(a <= began < b for a, b in before["body"]["ranges"]), "nothing watched there yet", before["body"])
    page.click("#play")
    page.wait_for_function("() => document.getElementById('video').currentTime > 7.4", timeout=15000)
    page.click("#play")
    paused = page.evaluate("() => { const v = document.getElementById('video'); return [v.currentTime, v.paused]; }")
    run.require(paused[1], "the Play button paused the lecture", paused)
    state = ev(page, SETTLED)
    outcomes = state["outcomes"]
    run.check(bool(outcomes) and all(o["status"] == 200 for o in outcomes), "the API took every report (200)", outcomes)
    run.check(not state["open"] and state["unreported"] == 0, "paused: everything played is reported", state)
    after = ev(page, "([p]) => app.call('GET', p)", path)
    cov = after["body"]
    log(f"   played {began:.2f} -> {paused[0]:.2f} s; coverage {cov}")
    run.require(after["status"] == 200, "GET /videos/{id}/watching answers 200", after)
    run.check(cov["watchedSeconds"] > before["body"]["watchedSeconds"] > 0, "watchedSeconds grew (and the opening play counted)",
              {"before": before["body"], "after": cov})
    # 2 s buckets, each watched when its midpoint was played: from 3.2 s the first is [4, 6).
    near = [r for r in cov["ranges"] if began - 2 <= r[0] <= began + 1 and r[1] >= paused[0] - 1]
    run.check(len(near) == 1, "a range starts near where playing began and reaches where it paused", cov["ranges"])
    run.check(0 < cov["percent"] < 90 and abs(cov["percent"] - cov["watchedSeconds"] * 10) <= 10 and cov["completed"] is False,
              "percent is about the watched share of the 10 s lecture; not completed", cov)
    said = f"watched {cov['percent']} %"
    try:
        page.wait_for_function("([t]) => document.getElementById('watched').textContent === t", arg=[said], timeout=10000)
    except Exception:  # noqa: BLE001 (the check below says what the page showed)
        pass
    text = page.text_content("#watched")
    run.check(text == said, "the page shows what GET does", {"page": text, "get": said})
    posts = [c for c in page.evaluate("() => window.vividState.calls") if c["method"] == "POST" and c["path"].endswith("/watching")]
    run.check(bool(posts) and all(c["status"] == 200 for c in posts),
              "every report of this page load (the flow's plays, seeks and pauses) was taken", posts)
    log(f"   {len(posts)} reports since the page loaded, all 200")

    # Played again, and the page left while it plays: the pagehide report (keepalive) arrives.
    ev(page, "() => app.refresh()")  # a fresh access token: a report sent on pagehide cannot wait for a refresh
    ev(page, "([t]) => app.seek(t)", 8.3)
    page.click("#play")
    page.wait_for_function("() => document.getElementById('video').currentTime > 9.3", timeout=15000)
    left = page.evaluate("() => document.getElementById('video').currentTime")
    page.reload()
    b = page.evaluate("() => window.booted")
    run.require(b.get("signedIn"), "signed in again after the reload", b)
    got = None
    for _ in range(20):
        got = ev(page, "([p]) => app.call('GET', p)", path)
        if any(a <= 9 < z for a, z in got["body"].get("ranges", [])):
            break
        page.wait_for_timeout(250)
    log(f"   played from 8.30 s, reloaded at {left:.2f} s; after the reload: {got['body']}")
    run.check(any(a <= 8 and z >= 10 for a, z in got["body"].get("ranges", [])),
              "the report sent as the page went (pagehide) is taken: [8, 10) watched", got)
    run.check(got["body"].get("watchedSeconds", 0) > cov["watchedSeconds"], "watchedSeconds grew again", got)
