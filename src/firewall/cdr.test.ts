import { describe, expect, it } from "vitest";
import { type Cdr, type CdrError, formatCdr, readCdrLines } from "./cdr.js";

const HEADER = "call_id,start,caller,callee,source,answered,ring_ms,talk_ms,sip_code";

async function read(lines: string[]) {
  const records: Cdr[] = [];
  const errors: CdrError[] = [];
  const counts = await readCdrLines(
    lines,
    (r) => records.push(r),
    (e) => errors.push(e),
  );
  return { records, errors, counts };
}

describe("the CDR reader", () => {
  it("reads good rows and refuses each malformed one with its line number, then keeps going", async () => {
    const { records, errors, counts } = await read([
      HEADER,
      "a1,2026-12-01T10:00:00Z,+442079412345,+447400123456,intl-1,0,1800,0,487",
      "a2,2026-12-01T10:00:01Z,+442079412345,+447400123456,intl-1,0,1800,0", // short
      "a3,yesterday,+442079412345,+447400123456,intl-1,0,1800,0,487",
      "a4,2026-12-01T10:00:03Z,02079412345,+447400123456,intl-1,0,1800,0,487",
      "a5,2026-12-01T10:00:04Z,+442079412345,+447400123456,intl-1,2,1800,0,487",
      "a6,2026-12-01T10:00:05Z,+442079412345,+447400123456,intl-1,0,-5,0,487",
      "a7,2026-12-01T10:00:06Z,+442079412345,+447400123456,intl-1,0,1800,40,487",
      "a8,2026-12-01T10:00:07Z,+442079412345,+447400123456,intl-1,0,1800,0,999",
      "",
      ",2026-12-01T10:00:08Z,+442079412345,+447400123456,intl-1,0,1800,0,487",
      "a10,2026-12-01T10:00:09+02:00,+442079412345,+447400123456,intl-1,0,1800,0,487",
      "a11,2026-12-01T10:00:10.250Z,+442079412345,+447400123456,uk-mno-a,1,6000,61000,200",
    ]);
    expect(errors).toEqual([
      { line: 3, message: "expected at least 9 fields, found 8" },
      { line: 4, message: 'start "yesterday" is not an ISO 8601 UTC time' },
      { line: 5, message: 'caller "02079412345" is not E.164' },
      { line: 6, message: 'answered "2" is not 0 or 1' },
      { line: 7, message: 'ring_ms "-5" is not a non-negative integer' },
      { line: 8, message: "talk_ms must be 0 when answered is 0" },
      { line: 9, message: 'sip_code "999" is not a SIP status code' },
      { line: 11, message: "call_id is empty" },
      { line: 12, message: 'start "2026-12-01T10:00:09+02:00" is not an ISO 8601 UTC time' },
    ]);
    expect(records.map((r) => r.callId)).toEqual(["a1", "a11"]);
    expect(records[1]).toEqual({
      callId: "a11",
      start: Date.parse("2026-12-01T10:00:10.250Z"),
      caller: "+442079412345",
      callee: "+447400123456",
      source: "uk-mno-a",
      answered: true,
      ringMs: 6000,
      talkMs: 61000,
      sipCode: 200,
    });
    expect(counts).toEqual({ rows: 2, refused: 9 });
  });

  it("takes columns in any order, ignores extra ones, understands quotes and CRLF", async () => {
    const { records, errors } = await read([
      "\uFEFFsip_code,extra,call_id,start,caller,callee,source,answered,ring_ms,talk_ms\r",
      '487,"x, y",c1,2026-12-01T10:00:00Z,+442079412345,+447400123456,"trunk ""a""",0,900,0\r',
    ]);
    expect(errors).toEqual([]);
    expect(records[0]).toMatchObject({ callId: "c1", source: 'trunk "a"', sipCode: 487, ringMs: 900 });
  });

  it("refuses a file without the header line's columns, naming them", async () => {
    const { records, errors } = await read([
      "call_id,start,caller,callee",
      "a1,2026-12-01T10:00:00Z,+442079412345,+447400123456",
    ]);
    expect(records).toEqual([]);
    expect(errors).toEqual([
      { line: 1, message: "header is missing column(s): source, answered, ring_ms, talk_ms, sip_code" },
    ]);
    expect((await read([])).errors).toEqual([{ line: 1, message: "empty file: the header line is required" }]);
  });

  it("writes what it reads", async () => {
    const line = "z9,2026-12-01T10:00:00.000Z,+442079412345,+447400123456,intl-1,1,4000,12000,200";
    const { records } = await read([HEADER, line]);
    expect(formatCdr(records[0] as Cdr)).toBe(line);
  });
});
