import { describe, expect, it } from "vitest";
import { reasonForFinal } from "./call-reason.js";

describe("reasonForFinal", () => {
  it.each([
    [200, "answered"],
    [486, "busy"],
    [600, "busy"],
    [404, "not_found"],
    [410, "not_found"],
    [604, "not_found"],
    [480, "unreachable"],
    [607, "blocked_by_carrier"],
    [608, "blocked_by_carrier"],
    [408, "timeout"],
    [401, "auth_failed"],
    [407, "auth_failed"],
    [500, "network_error"],
    [503, "network_error"],
    [603, "rejected"],
    [403, "rejected"],
    [487, "rejected"], // a 487 we did not ask for
    [302, "rejected"], // we do not follow redirects
  ] as const)("%i → %s", (status, reason) => {
    expect(reasonForFinal(status)).toBe(reason);
  });
});
