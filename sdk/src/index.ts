/** The flashverify client SDK: the API client, caller-ID matching for apps, and webhook verification. */
export * from "./client.js";
export * from "./pattern.js";
export * from "./webhooks.js";
