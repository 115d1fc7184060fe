/**
 * The widget as one script for pages without a bundler: the server serves it built at
 * /sdk/flashverify-widget.js, and loading it registers <flashverify-widget>.
 *
 * @example
 * <script type="module" src="/verify/sdk/flashverify-widget.js"></script>
 */
import { defineFlashverifyWidget } from "./index.js";

defineFlashverifyWidget();

export * from "./index.js";
