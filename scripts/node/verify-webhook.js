// verify-webhook.js — verifies webhook deliveries with the reference
// Standard Webhooks library (npm standardwebhooks), not the broker's code.
// pkg/webhook's TestDeliveriesVerifyWithStandardWebhooks runs it.
//
// stdin:  {"secret": "whsec_…", "deliveries": [{"headers": {…}, "body": "…"}]}
// stdout: one result per delivery: "ok" or the library's error message.
"use strict";
const { Webhook } = require("standardwebhooks");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const { secret, deliveries } = JSON.parse(input);
  const wh = new Webhook(secret);
  const results = deliveries.map(({ headers, body }) => {
    try {
      wh.verify(body, headers);
      return "ok";
    } catch (e) {
      return String(e.message || e);
    }
  });
  process.stdout.write(JSON.stringify(results) + "\n");
});
