import { describe, expect, it } from "vitest";
import { type StreamCap, StreamCaps } from "./stream-caps.js";

describe("StreamCaps", () => {
  it("refuses past each cap, names the cap, and gives places back once", () => {
    const refused: StreamCap[] = [];
    const open: number[] = [];
    const caps = new StreamCaps(
      { process: 4, application: 3, verification: 2 },
      { refused: (cap) => refused.push(cap), open: (n) => open.push(n) },
    );
    const a1 = caps.acquire("app_a", "ver_1");
    const a2 = caps.acquire("app_a", "ver_1");
    expect(caps.acquire("app_a", "ver_1")).toBe("verification");
    const a3 = caps.acquire("app_a", null);
    expect(caps.acquire("app_a", "ver_2")).toBe("application");
    const b1 = caps.acquire("app_b", null);
    expect(caps.acquire("app_c", null)).toBe("process");
    expect(refused).toEqual(["verification", "application", "process"]);
    expect(caps.openStreams).toBe(4);

    for (const place of [a1, a2, a3, b1]) expect(typeof place).toBe("function");
    const release = a1 as () => void;
    release();
    release();
    expect(caps.openStreams).toBe(3);
    expect(typeof caps.acquire("app_a", "ver_1")).toBe("function");
    expect(open).toEqual([1, 2, 3, 4, 3, 4]);
  });
});
