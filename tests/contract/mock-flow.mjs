// The study flow against a mock server that answers from the document alone (scripts/contract.sh):
// prism (`prism mock docs/openapi.yaml`, static: each answer is the operation's first example)
// validates every request against the document - parameters, headers, security, bodies - and
// refuses one that breaks it (422). The flow feeds each answer's ids, ETag and URLs into its next
// requests, so it passes only if the document's examples are data its own requests accept (no
// `"string"` for an id). The presigned S3 PUTs the flow makes are answered here (S3 is no part of
// the document). Usage: node mock-flow.mjs <compiled study-flow.js> <docs/openapi.yaml>.

import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [flowJs, doc] = process.argv.slice(2);
const bin = join(import.meta.dirname, "node_modules", ".bin", "prism");

const port = await new Promise((resolve, reject) => {
  const probe = createServer();
  probe.on("error", reject);
  probe.listen(0, "127.0.0.1", () => {
    const { port: free } = probe.address();
    probe.close(() => resolve(free));
  });
});

const prism = spawn(bin, ["mock", doc, "--host", "127.0.0.1", "--port", String(port), "--errors"], {
  stdio: ["ignore", "pipe", "pipe"],
  env: { ...process.env, NO_COLOR: "1" },
});
let log = "";
const ready = new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`prism did not start within 60 s:\n${log}`)), 60_000);
  const read = (chunk) => {
    log += chunk;
    if (log.includes("Prism is listening")) {
      clearTimeout(timer);
      resolve();
    }
  };
  prism.stdout.on("data", read);
  prism.stderr.on("data", read);
  prism.on("exit", (code) => reject(new Error(`prism exited with ${code}:\n${log}`)));
});

let calls = 0;
const transfers = [];
try {
  await ready;
  const counting = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    calls += 1;
    return counting(input, init);
  };
  const { studyFlow } = await import(pathToFileURL(flowJs).href);
  const result = await studyFlow({
    baseUrl: `http://127.0.0.1:${port}`,
    googleIdToken: "eyJhbGciOiJSUzI1NiJ9.eyJlbWFpbCI6ImFuYUBleGFtcGxlLmNvbSJ9.sig",
    lecture: new Blob([new Uint8Array(48_234)], { type: "video/mp4" }),
    lectureName: "waves.mp4",
    friendEmail: "ben@example.com",
    transfer: async (url, init) => {
      transfers.push(`${init.method} ${new URL(url).pathname} (${init.body.size} bytes)`);
      return { ok: true, status: 200, etag: '"9b2cf535f27731c974343645a3985328"' };
    },
    pause: () => Promise.resolve(),
  });
  console.log(
    `mock-flow: the study flow ran against prism (the document's examples): ${calls} requests accepted, ` +
      `${transfers.length} uploads to S3 stubbed; video ${result.videoId}, memo version ${result.memoVersion}, ` +
      `${result.overlaysAt120s} overlay(s) at 120 s`,
  );
} catch (e) {
  console.error(`mock-flow: ${e instanceof Error ? e.message : String(e)}`);
  console.error(log.split("\n").filter((l) => /error|warn|✖|violation/i.test(l)).slice(-30).join("\n"));
  process.exitCode = 1;
} finally {
  prism.kill("SIGTERM");
}
