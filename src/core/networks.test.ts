/** Destination networks and the confidence bound workflow auto judges them by. */
import { describe, expect, it } from "vitest";
import { wilsonUpper } from "./delivery-measure.js";
import { NetworkTable } from "./networks.js";

describe("NetworkTable", () => {
  it("names an operator by its longest prefix, else country and number range", () => {
    const table = new NetworkTable({ "+7916": "RU-MTS", "+79161": "RU-MTS-Moscow", "+447520": "GB-DropCo" });
    expect(table.of("+79161234567", "RU")).toBe("RU-MTS-Moscow");
    expect(table.of("+79171234567", "RU")).toBe("RU:9171");
    expect(table.of("+447520123456", "GB")).toBe("GB-DropCo");
    expect(table.of("+447400123456", "GB")).toBe("GB:7400");
    expect(table.of("+12025550123", "US")).toBe("US:2025");
  });

  it("takes the range's digits per country, then DEFAULT", () => {
    const table = new NetworkTable({}, { US: 6, DEFAULT: 3 });
    expect(table.of("+12025550123", "US")).toBe("US:202555");
    expect(table.of("+447400123456", "GB")).toBe("GB:740");
  });
});

describe("wilsonUpper", () => {
  it("needs nine failed calls of nine before a 0.3 threshold is crossed: a few bad calls are not enough", () => {
    expect(wilsonUpper(0, 8)).toBeGreaterThan(0.3);
    expect(wilsonUpper(0, 9)).toBeLessThan(0.3);
    expect(wilsonUpper(0, 0)).toBe(1);
  });

  it("bounds a measured share from above, tighter as calls add up", () => {
    expect(wilsonUpper(5, 10)).toBeCloseTo(0.7634, 3);
    expect(wilsonUpper(50, 100)).toBeCloseTo(0.5964, 3);
    expect(wilsonUpper(10, 10)).toBe(1);
  });
});
