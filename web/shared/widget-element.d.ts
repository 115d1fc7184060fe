/** <flashverify-widget> in Preact's JSX: its attributes, and a ref to the element for `begin()`. */
import type { FlashverifyWidget } from "../../sdk/src/widget/index.js";

declare module "preact" {
  namespace JSX {
    interface IntrinsicElements {
      "flashverify-widget": HTMLAttributes<FlashverifyWidget> & { "base-url"?: string };
    }
  }
}
