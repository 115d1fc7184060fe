/** The API reference page at /docs: the server's own OpenAPI document, read and laid out for people. */
import { render } from "preact";
import { ReferencePage } from "./reference-page.js";
import "../shared/base.css";
import "./reference.css";

render(<ReferencePage />, document.getElementById("app") as HTMLElement);
