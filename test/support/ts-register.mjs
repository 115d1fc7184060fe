// Lets a child `node` process run this project's TypeScript sources unbuilt (crash tests spawn the real server).
import { register } from "node:module";

register("../../src/sip/worker-ts-loader.mjs", import.meta.url);
