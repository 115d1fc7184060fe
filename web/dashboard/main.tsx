/** The operator dashboard: API-key login, then live verifications, statistics and management screens. */
import { render } from "preact";
import { App } from "./app.js";
import "uplot/dist/uPlot.min.css";
import "../shared/base.css";
import "./dashboard.css";

render(<App />, document.getElementById("app") as HTMLElement);
