// A browser app whose minified bundle the source-map tests build
// (tests/test_sourcemaps_e2e.py): esbuild defines __DSN__ and __RELEASE__.
import * as Sentry from "@sentry/browser";

import { checkout } from "./cart.js";

Sentry.init({
  dsn: __DSN__,
  release: __RELEASE__,
  defaultIntegrations: false,
  integrations: [Sentry.globalHandlersIntegration()],
});

document.getElementById("buy").addEventListener("click", () => {
  checkout({ items: [] });
});
