// @sentry/node reporting to a DSN of ours: `node node_send.mjs MODE DSN`.
//
// Run by tests/test_sdk_node.py; MODE "items" takes the trace lifecycle as a
// third argument: "stream" (the default: spans in "span" items) or "static"
// (a "transaction" item). Prints one JSON line: the ids of the
// events captured, and every envelope the SDK's own (chunked) transport
// sent, as its item types and the status it was answered with.
//
// MODE "errors": an error with a cause chain, a warning message, tags,
// user, breadcrumbs, release/environment/server_name, back-dated.
// MODE "items": the non-error items the SDK sends beside errors --
// a transaction, a session, check-ins, logs, metrics, a client report and an
// attachment -- and one error after each, which must still be stored.

import * as Sentry from "@sentry/node";

const [mode, dsn, lifecycle = "stream"] = process.argv.slice(2);
if (!dsn || !["errors", "items"].includes(mode)) {
  console.error("usage: node node_send.mjs errors|items DSN [stream|static]");
  process.exit(2);
}

// How far back the "errors" events are dated, in seconds.
const BACK_DATED = 3 * 3600;

const sent = [];

// Node's own transport, watched: what it sent and what it was answered.
function recordingTransport(options) {
  const transport = Sentry.makeNodeTransport(options);
  return {
    ...transport,
    async send(envelope) {
      const types = envelope[1].map(([headers]) => headers.type);
      try {
        const response = await transport.send(envelope);
        sent.push({ types, status: response.statusCode ?? null });
        return response;
      } catch (error) {
        sent.push({ types, status: null, error: String(error) });
        throw error;
      }
    },
  };
}

function loadOrder(order) {
  const price = order.lines[0].price;
  return price.amount;
}

function checkout(order) {
  try {
    return loadOrder(order);
  } catch (error) {
    throw new Error(`could not check out order ${order.id}`, { cause: error });
  }
}

async function errors() {
  Sentry.init({
    dsn,
    transport: recordingTransport,
    release: "shop-api@4.5.6",
    environment: "staging",
    serverName: "node-01",
    sendClientReports: false,
    beforeSend(event) {
      event.timestamp -= BACK_DATED;
      return event;
    },
  });
  Sentry.setTag("tenant", "acme");
  Sentry.setUser({ id: "u-42", email: "ada@example.com", username: "ada" });
  Sentry.addBreadcrumb({ category: "auth", message: "user logged in", level: "info" });
  Sentry.addBreadcrumb({ category: "cart", message: "added 3 items" });

  const ids = {};
  try {
    checkout({ id: 77, lines: [{}] });
  } catch (error) {
    ids.exception = Sentry.captureException(error);
  }
  ids.message = Sentry.captureMessage("Payment gateway timed out", "warning");
  await Sentry.flush(10000);
  return ids;
}

async function items() {
  Sentry.init({
    dsn,
    transport: recordingTransport,
    release: "shop-api@4.5.6",
    environment: "staging",
    serverName: "node-02",
    tracesSampleRate: 1.0,
    traceLifecycle: lifecycle,
    enableLogs: true,
    sendClientReports: true,
    beforeSend(event) {
      // Dropped here, so the SDK reports the drop in a client report.
      return event.message === "dropped on purpose" ? null : event;
    },
  });
  const ids = {};
  const error = (name) => {
    ids[name] = Sentry.captureException(new Error(`beside ${name}`));
  };

  await Sentry.startSpan({ name: "GET /orders", op: "http.server" }, async () => {
    await Sentry.startSpan({ name: "load orders", op: "db" }, async () => {});
  });
  error("spans");

  Sentry.startSession();
  Sentry.captureSession();
  Sentry.endSession();
  error("session");

  const checkIn = Sentry.captureCheckIn(
    { monitorSlug: "nightly-export", status: "in_progress" },
    { schedule: { type: "crontab", value: "0 3 * * *" }, checkinMargin: 5 },
  );
  Sentry.captureCheckIn({ checkInId: checkIn, monitorSlug: "nightly-export", status: "ok" });
  error("check_in");

  Sentry.logger.info("order %s shipped", [1234]);
  Sentry.logger.warn("stock low", { sku: "A-1" });
  Sentry.metrics.count("orders.shipped", 1);
  error("log");

  Sentry.withScope((scope) => {
    scope.addAttachment({ filename: "order.json", data: JSON.stringify({ id: 1234 }) });
    scope.addAttachment({
      filename: "dump.bin",
      data: new Uint8Array(256 * 1024).fill(7),
      contentType: "application/octet-stream",
    });
    ids.attachment = Sentry.captureException(new Error("beside attachment"));
  });

  Sentry.captureMessage("dropped on purpose");
  await Sentry.flush(10000);
  // The client report goes out on this flush (and the logs and metrics).
  error("client_report");
  await Sentry.flush(10000);
  return ids;
}

const ids = mode === "errors" ? await errors() : await items();
await Sentry.close(10000);
process.stdout.write(`${JSON.stringify({ ids, sent })}\n`);
