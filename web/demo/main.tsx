/** The demo page: a sign-up form using the verification widget, next to the sandbox's virtual phone. */
import { render } from "preact";
import { DemoPage } from "./demo-page.js";
import "../shared/base.css";
import "./demo.css";

render(<DemoPage />, document.getElementById("app") as HTMLElement);
