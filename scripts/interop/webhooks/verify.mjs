// verify.mjs cross-checks fleetwire's Go package shared/webhooks against an
// independent implementation: the npm reference library "standardwebhooks".
//
// Each request is one JSON object, given as a command-line argument or as one
// line of standard input:
//
//   {"secret": "whsec_…", "id": "msg_…", "timestamp": 1700000000, "body": "…", "signature": "v1,…"}
//       verifies the delivery (against the real clock, as receivers do) and
//       answers {"ok": true} or {"ok": false, "error": "…"};
//   the same without "signature"
//       signs the delivery and answers {"ok": true, "signature": "v1,…"}.
//
// One JSON answer is printed per request, in order. The exit status is 0 when
// every request was well-formed (a failed verification is still an answer),
// and 1 otherwise.
//
//   npm ci && echo '{"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw","id":"msg_1","timestamp":1614265330,"body":"{}"}' | node verify.mjs

import { readFileSync } from "node:fs";
import { Webhook } from "standardwebhooks";

function answer(line) {
  let req;
  try {
    req = JSON.parse(line);
  } catch (err) {
    return { ok: false, error: `bad request: ${err.message}`, malformed: true };
  }
  for (const field of ["secret", "id", "timestamp", "body"]) {
    if (req[field] === undefined) {
      return { ok: false, error: `bad request: missing "${field}"`, malformed: true };
    }
  }
  try {
    const wh = new Webhook(req.secret);
    if (req.signature === undefined) {
      const signature = wh.sign(req.id, new Date(Number(req.timestamp) * 1000), req.body);
      return { ok: true, signature };
    }
    wh.verify(
      req.body,
      {
        "webhook-id": req.id,
        "webhook-timestamp": String(req.timestamp),
        "webhook-signature": req.signature,
      },
      { jsonParse: false },
    );
    return { ok: true };
  } catch (err) {
    return { ok: false, error: err.message };
  }
}

const args = process.argv.slice(2);
const lines = args.length > 0 ? args : readFileSync(0, "utf8").split("\n").filter((l) => l.trim() !== "");

let malformed = false;
for (const line of lines) {
  const { malformed: bad, ...res } = answer(line);
  malformed ||= Boolean(bad);
  process.stdout.write(`${JSON.stringify(res)}\n`);
}
process.exitCode = malformed ? 1 : 0;
