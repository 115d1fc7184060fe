/**
 * High-risk destination prefixes shipped with flashverify: sends to numbers starting with these are refused
 * (`DESTINATION_BLOCKED`, reason `high_risk_prefix`) unless an application allow-lists the number or prefix.
 * Operators add their own with FRAUD_HIGH_RISK_PREFIXES (comma-separated E.164 prefixes), e.g. the ranges of a
 * commercial International Revenue Share Fraud (IRSF) list such as the GSMA's, which cannot be redistributed here.
 *
 * Edit this list freely; keep every entry's source beside it.
 */
export interface HighRiskPrefix {
  prefix: string;
  why: string;
  /** where the assignment is documented */
  source: string;
}

const ITU_E164_ASSIGNMENTS = "ITU-T E.164 list of assigned country codes (Operational Bulletin annex)";

export const HIGH_RISK_PREFIXES: readonly HighRiskPrefix[] = [
  // Non-geographic codes: no subscriber of a consumer app lives there, and they are the classic IRSF destinations
  // because their termination rates are high and their number ranges are resold to revenue-share schemes.
  { prefix: "+870", why: "Inmarsat satellite service", source: ITU_E164_ASSIGNMENTS },
  { prefix: "+881", why: "Global Mobile Satellite System", source: ITU_E164_ASSIGNMENTS },
  { prefix: "+882", why: "International networks (shared code)", source: ITU_E164_ASSIGNMENTS },
  { prefix: "+883", why: "International networks (shared code)", source: ITU_E164_ASSIGNMENTS },
  { prefix: "+979", why: "International Premium Rate Service", source: ITU_E164_ASSIGNMENTS },
  { prefix: "+808", why: "International Shared Cost Service", source: ITU_E164_ASSIGNMENTS },
  { prefix: "+800", why: "Universal International Freephone Numbers", source: ITU_E164_ASSIGNMENTS },
  { prefix: "+888", why: "Telecommunications for Disaster Relief (OCHA)", source: ITU_E164_ASSIGNMENTS },
];
