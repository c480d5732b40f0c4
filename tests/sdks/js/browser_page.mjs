// A shop page with @sentry/browser, bundled by esbuild in tests/test_sdk_browser.py.
//
// The DSN comes from the page's query string (?dsn=...); with &preflight,
// the SDK sends a Content-Type of its own (transportOptions.headers), which
// makes every request need a CORS preflight. Buttons make the
// errors a real page has: an uncaught error thrown from a timer, an
// unhandled promise rejection, a warning message and user feedback.
// window.captured lists the ids of what the SDK sent (kind -> event id);
// window.sent, each envelope's item types and the status it was answered
// with, as the SDK's own fetch transport saw it (a CORS refusal shows as an
// error there).

import * as Sentry from "@sentry/browser";

window.captured = {};
window.sent = [];

function recordingTransport(options) {
  const transport = Sentry.makeFetchTransport(options);
  return {
    ...transport,
    async send(envelope) {
      const types = envelope[1].map(([headers]) => headers.type);
      try {
        const response = await transport.send(envelope);
        window.sent.push({ types, status: response.statusCode ?? null });
        return response;
      } catch (error) {
        window.sent.push({ types, status: null, error: String(error) });
        throw error;
      }
    },
  };
}

const query = new URLSearchParams(window.location.search);
Sentry.init({
  dsn: query.get("dsn"),
  transport: recordingTransport,
  transportOptions: query.has("preflight")
    ? { headers: { "Content-Type": "application/x-sentry-envelope" } }
    : {},
  release: "shop-web@7.8.9",
  environment: "production",
  beforeSend(event) {
    // A message carries a synthetic exception, without a type.
    const values = event.exception?.values ?? [];
    const kind = values.length ? (values[values.length - 1].type ?? "message") : "message";
    window.captured[kind] = event.event_id;
    return event;
  },
});
Sentry.setTag("page", "checkout");
Sentry.setUser({ id: "b-9", email: "grace@example.com" });

function chargeCard(card) {
  return card.number.slice(-4);
}

function pay(order) {
  try {
    return chargeCard(order.card);
  } catch (error) {
    throw new Error(`payment failed for order ${order.id}`, { cause: error });
  }
}

async function loadStock(quantity) {
  throw new RangeError(`quantity ${quantity} out of range`);
}

function on(id, handler) {
  document.getElementById(id).addEventListener("click", handler);
}

on("pay", () => {
  Sentry.addBreadcrumb({ category: "cart", message: "pay clicked" });
  setTimeout(() => pay({ id: 31, card: {} }));
});
on("stock", () => {
  loadStock(-1);
});
on("message", () => {
  Sentry.captureMessage("Checkout took 9 seconds", "warning");
});
on("feedback", () => {
  window.captured.feedback = Sentry.captureFeedback({
    name: "Grace",
    email: "grace@example.com",
    message: "The pay button did nothing",
    associatedEventId: window.captured.Error,
  });
});
