import { describe, expect, it } from "vitest";
import { loadConfig } from "../../config.js";

describe("reverse flash call settings", () => {
  it("reads its numbers, policy and limits, and refuses what cannot be used, naming the variable", () => {
    const config = loadConfig({
      INBOUND_NUMBERS: "+44207946098x, +15550100",
      INBOUND_ATTESTATION_APPLICATIONS: '{"app_x":"A"}',
      INBOUND_LIMITS: "caller=3/1m",
    });
    expect(config.INBOUND_NUMBERS).toEqual(["+44207946098x", "+15550100"]);
    expect(config.INBOUND_ATTESTATION_APPLICATIONS).toEqual({ app_x: "A" });
    expect(config.INBOUND_LIMITS).toEqual({ caller: { points: 3, durationSec: 60 } });
    expect(config.INBOUND_REJECT_CODE).toBe(603);
    expect(() => loadConfig({ INBOUND_NUMBERS: "02079460999" })).toThrow(/INBOUND_NUMBERS/);
    expect(() => loadConfig({ INBOUND_REJECT_CODE: "200" })).toThrow(/INBOUND_REJECT_CODE/);
    expect(() => loadConfig({ INBOUND_ATTESTATION: "C" })).toThrow(/INBOUND_ATTESTATION/);
    expect(() => loadConfig({ INBOUND_LIMITS: "callers=3/1m" })).toThrow(/INBOUND_LIMITS/);
    expect(() => loadConfig({ INBOUND_SIP_TRANSPORTS: "udp,sctp" })).toThrow(/INBOUND_SIP_TRANSPORTS/);
    expect(() => loadConfig({ INBOUND_SIP_TLS_PORT: "5061" })).toThrow(/INBOUND_TLS_CERT_FILE/);
  });
});
