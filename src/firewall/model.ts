/**
 * A score is a logistic model over the named features: sigmoid(bias + sum of weight x feature). Linear, so each
 * score explains itself: a factor is one feature's pull, weight x (value - its average in the training data).
 */

export interface LinearModel {
  names: readonly string[];
  bias: number;
  weights: readonly number[];
  /** each feature's average over the training data: the point the explanation measures pulls from */
  means: readonly number[];
  /** scores at or above this are labelled `flashcall` */
  threshold: number;
}

export interface Factor {
  feature: string;
  /** the feature's pull on the score's log-odds; positive towards flash call */
  weight: number;
}

export function score(model: LinearModel, x: Float64Array): number {
  let z = model.bias;
  for (let i = 0; i < model.weights.length; i++) z += (model.weights[i] as number) * (x[i] as number);
  return 1 / (1 + Math.exp(-z));
}

/** The `count` features that pulled the score most, strongest first. */
export function topFactors(model: LinearModel, x: Float64Array, count = 3): Factor[] {
  const pulls = model.weights.map((w, i) => ({
    feature: model.names[i] as string,
    weight: Math.round(w * ((x[i] as number) - (model.means[i] as number)) * 100) / 100,
  }));
  return pulls.sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight)).slice(0, count);
}

/**
 * Fits a model by full-batch gradient descent (Adam) on standardised features with a little L2, then chooses the
 * lowest threshold whose false positives on the same data stay within `maxFalsePositiveShare` of negatives.
 * Features named in `nonNegative` may only pull towards flash call (their weight is kept at 0 or above): evidence
 * that more of a range's calls look like flash calls must never make its calls look less like them, whatever
 * accident of the training day would say otherwise.
 */
export function fitLogistic(
  names: readonly string[],
  rows: readonly Float64Array[],
  labels: Uint8Array,
  options: { iterations?: number; l2?: number; maxFalsePositiveShare?: number; nonNegative?: ReadonlySet<string> } = {},
): LinearModel {
  const d = names.length;
  const nonNegative = names.map((name) => options.nonNegative?.has(name) ?? false);
  const n = rows.length;
  const mean = new Float64Array(d);
  const sd = new Float64Array(d);
  for (const x of rows) for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) + (x[j] as number) / n;
  for (const x of rows)
    for (let j = 0; j < d; j++) sd[j] = (sd[j] as number) + ((x[j] as number) - (mean[j] as number)) ** 2 / n;
  for (let j = 0; j < d; j++) sd[j] = Math.sqrt(sd[j] as number) || 1;
  const w = new Float64Array(d + 1);
  const m1 = new Float64Array(d + 1);
  const m2 = new Float64Array(d + 1);
  const grad = new Float64Array(d + 1);
  const iterations = options.iterations ?? 200;
  const l2 = options.l2 ?? 1e-4;
  const z = new Float64Array(d);
  for (let t = 1; t <= iterations; t++) {
    grad.fill(0);
    for (let i = 0; i < n; i++) {
      const x = rows[i] as Float64Array;
      let s = w[d] as number;
      for (let j = 0; j < d; j++) {
        z[j] = ((x[j] as number) - (mean[j] as number)) / (sd[j] as number);
        s += (w[j] as number) * (z[j] as number);
      }
      const err = 1 / (1 + Math.exp(-s)) - (labels[i] as number);
      for (let j = 0; j < d; j++) grad[j] = (grad[j] as number) + err * (z[j] as number);
      grad[d] = (grad[d] as number) + err;
    }
    for (let j = 0; j <= d; j++) {
      const g = (grad[j] as number) / n + (j < d ? l2 * (w[j] as number) : 0);
      m1[j] = 0.9 * (m1[j] as number) + 0.1 * g;
      m2[j] = 0.999 * (m2[j] as number) + 0.001 * g * g;
      const step =
        (0.1 * ((m1[j] as number) / (1 - 0.9 ** t))) / (Math.sqrt((m2[j] as number) / (1 - 0.999 ** t)) + 1e-8);
      w[j] = (w[j] as number) - step;
      if (j < d && nonNegative[j] && (w[j] as number) < 0) w[j] = 0;
    }
  }
  const weights = Array.from({ length: d }, (_, j) => (w[j] as number) / (sd[j] as number));
  let bias = w[d] as number;
  for (let j = 0; j < d; j++) bias -= (weights[j] as number) * (mean[j] as number);
  const model: LinearModel = { names, bias, weights, means: Array.from(mean), threshold: 0.5 };
  return { ...model, threshold: chooseThreshold(model, rows, labels, options.maxFalsePositiveShare ?? 0.0002) };
}

/** The lowest score threshold keeping false positives within `maxShare` of the negatives. */
function chooseThreshold(model: LinearModel, rows: readonly Float64Array[], labels: Uint8Array, maxShare: number) {
  const negatives: number[] = [];
  rows.forEach((x, i) => {
    if (labels[i] === 0) negatives.push(score(model, x));
  });
  negatives.sort((a, b) => b - a);
  const allowed = Math.floor(negatives.length * maxShare);
  // Strictly above the (allowed+1)-th highest negative score.
  const edge = negatives[allowed] ?? 0;
  return Math.min(0.999999, edge + 1e-9);
}
