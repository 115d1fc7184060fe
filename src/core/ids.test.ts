import { expect, it } from "vitest";
import { monotonicIds, newId } from "./ids.js";

it("makes ids that sort in the order they were made, within one millisecond and when the clock steps back", () => {
  const times = [1_000, 1_000, 1_000, 2_000, 1_500, 1_500, 3_000];
  let i = 0;
  const next = monotonicIds("evt", () => times[i++]!);
  const ids = times.map(() => next());
  expect([...ids].sort()).toEqual(ids);
  expect(new Set(ids).size).toBe(ids.length);
  for (const id of ids) expect(id).toMatch(/^evt_[0-9a-hjkmnp-tv-z]{26}$/);
  // The time part is the millisecond's, as newId's.
  expect(ids[0]!.slice(0, 14)).toBe(newId("evt", 1_000).slice(0, 14));
  expect(ids[4]!.slice(0, 14)).toBe(ids[3]!.slice(0, 14));
});

it("counts on within one millisecond", () => {
  const next = monotonicIds("evt", () => 5_000);
  const ids = Array.from({ length: 2_000 }, () => next());
  expect([...ids].sort()).toEqual(ids);
  expect(new Set(ids).size).toBe(ids.length);
});
