import { describe, expect, it } from "vitest";
import { newBranch, newCallId, newTag } from "./ids.js";

describe("ids", () => {
  it("makes RFC 3261 branches with at least 64 random bits, and unique ids", () => {
    const branches = new Set(Array.from({ length: 5000 }, newBranch));
    expect(branches.size).toBe(5000);
    for (const b of [...branches].slice(0, 10)) expect(b).toMatch(/^z9hG4bK[0-9a-f]{24}$/);
    expect(newTag()).toMatch(/^[0-9a-f]{16}$/);
    expect(newCallId()).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(Array.from({ length: 5000 }, newCallId)).size).toBe(5000);
  });
});
