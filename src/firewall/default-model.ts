/**
 * The default models, fitted by `flashverify firewall train train.csv train.labels.csv` on the day written by
 * `flashverify firewall generate --mix train --seed 1 --calls 300000 --out train.csv --labels train.labels.csv`.
 * Regenerate rather than edit by hand: the numbers belong together.
 */
import type { LinearModel } from "./model.js";

export interface Models {
  /** scores a call set-up from history alone */
  invite: LinearModel;
  /** scores an ended call with its outcome */
  end: LinearModel;
}

export const DEFAULT_MODELS: Models = {
  invite: {
    names: [
      "range short-cancel share",
      "caller short-cancel share",
      "trunk short-cancel share",
      "range answered share",
      "caller answered share",
      "caller called this callee before",
      "range volume",
      "caller volume",
      "trunk short-cancel share for the caller's prefix",
    ],
    bias: 8.172500463871108,
    weights: [
      1.1495203030866075, 0.3513030112041652, 0.5127851565208166, -1.2992474597876973, -1.1792463571777725,
      -3.319096784234092, -0.9222961558944006, -2.2269613173515213, 0.9536932361603898,
    ],
    means: [
      -2.0506751143965443, -3.7548299024048375, -1.2851933638919253, 0.44800273481783837, 0.5570442963104391,
      0.13117065390750843, 1.9917541893670094, 0.39598151913899854, -1.97001366640781,
    ],
    threshold: 0.7758875655881574,
  },
  end: {
    names: [
      "range short-cancel share",
      "caller short-cancel share",
      "trunk short-cancel share",
      "range answered share",
      "caller answered share",
      "caller called this callee before",
      "range volume",
      "caller volume",
      "trunk short-cancel share for the caller's prefix",
      "cancelled within seconds of ringing",
      "unanswered, short ring, not cancelled",
      "answered",
      "talk under 3 s",
      "ring time",
      "short cancel x range share",
      "short cancel x caller answered share",
      "short cancel x trunk share for the caller's prefix",
      "short cancel x caller short-cancel share",
    ],
    bias: 10.322788304631198,
    weights: [
      0.7269558380383069, 0.6115563793877168, 0.28597237078151005, -2.426779678247615, -3.685167139951289,
      -2.3131674513327556, 0.24523611597936779, -5.100272758082256, 0.5925336618744419, 3.4860151682396063,
      -0.32979457224630393, -2.106206903843278, 3.1754346325844898, -2.1134443120791695, 1.2946095097407688,
      6.017190841603498, 0.598698041258376, 0.5091460127130859,
    ],
    means: [
      -1.8067430157063058, -3.29801535693737, -1.336837255452218, 0.4396622483431862, 0.5208152803363485,
      0.23036044657099503, 2.4166572817842997, 0.745811797549215, -1.8553634279576878, 0.26287400318970594,
      0.06383413078150502, 0.4277511961707436, 0.022992025518343128, 1.1087238641151584, 0.19202272124055142,
      0.10822076788701535, 0.1568683514441574, -0.231903910925618,
    ],
    threshold: 0.9931783905647695,
  },
};
