/**
 * Has a representation collapsed? Two numbers over a set of embeddings (one row per image or view):
 * - spread: lightly's `std_of_l2_normalized` scaled by √dim: the rows are L2-normalised, the sd of each
 *   coordinate over the rows is averaged over the coordinates and multiplied by √dim. Rows spread evenly
 *   over the sphere give about 1; every row pointing the same way gives 0 (complete collapse).
 * - rank: the effective rank (Roy & Vetterli 2007) of the centred rows, exp of the entropy of their
 *   normalised singular values: about 1 when the rows vary along one direction only (dimensional collapse),
 *   up to min(rows - 1, dim).
 * The held-out pass of every run records both (pretext-eval.ts); eval's measureCollapse reports them for a
 * checkpoint. Checked against torch.linalg.svdvals in collapse.test.ts.
 */
export interface EmbeddingStats {
  spread: number;
  rank: number;
  /** mean cosine between the rows of two different samples (~1: every sample gives the same embedding) */
  cosine: number;
  dim: number;
  rows: number;
}

/** `rows` x `dim` values, row-major. */
export function embeddingStats(values: ArrayLike<number>, rows: number, dim: number): EmbeddingStats {
  if (values.length !== rows * dim) throw new Error(`embeddingStats: ${values.length} values are not ${rows} rows of ${dim}`);
  if (rows < 2) throw new Error(`embeddingStats: needs at least 2 rows, got ${rows}`);
  return { spread: spreadOf(values, rows, dim), rank: effectiveRank(values, rows, dim), cosine: meanCosine(values, rows, dim), dim, rows };
}

function unitRows(values: ArrayLike<number>, rows: number, dim: number): Float64Array {
  const u = new Float64Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    let norm = 0;
    for (let j = 0; j < dim; j++) norm += values[r * dim + j] ** 2;
    const scale = 1 / Math.max(Math.sqrt(norm), 1e-12); // torch.nn.functional.normalize's eps
    for (let j = 0; j < dim; j++) u[r * dim + j] = values[r * dim + j] * scale;
  }
  return u;
}

function spreadOf(values: ArrayLike<number>, rows: number, dim: number): number {
  const u = unitRows(values, rows, dim);
  let sumSd = 0;
  for (let j = 0; j < dim; j++) {
    let mean = 0;
    for (let r = 0; r < rows; r++) mean += u[r * dim + j];
    mean /= rows;
    let ss = 0;
    for (let r = 0; r < rows; r++) ss += (u[r * dim + j] - mean) ** 2;
    sumSd += Math.sqrt(ss / (rows - 1)); // torch.std: unbiased
  }
  return (sumSd / dim) * Math.sqrt(dim);
}

function meanCosine(values: ArrayLike<number>, rows: number, dim: number): number {
  const u = unitRows(values, rows, dim);
  // sum over all pairs from |sum of unit rows|^2 = rows + 2 * sum_{i<j} cos_ij
  const s = new Float64Array(dim);
  for (let r = 0; r < rows; r++) for (let j = 0; j < dim; j++) s[j] += u[r * dim + j];
  let sq = 0;
  let self = 0;
  for (let j = 0; j < dim; j++) sq += s[j] ** 2;
  for (let r = 0; r < rows * dim; r++) self += u[r] ** 2; // rows, less any all-zero row
  return (sq - self) / (rows * (rows - 1));
}

function effectiveRank(values: ArrayLike<number>, rows: number, dim: number): number {
  const c = new Float64Array(rows * dim);
  for (let j = 0; j < dim; j++) {
    let mean = 0;
    for (let r = 0; r < rows; r++) mean += values[r * dim + j];
    mean /= rows;
    for (let r = 0; r < rows; r++) c[r * dim + j] = values[r * dim + j] - mean;
  }
  // the singular values of C are the square roots of the eigenvalues of the smaller Gram matrix
  const byRows = rows <= dim;
  const m = byRows ? rows : dim;
  const g = new Float64Array(m * m);
  for (let a = 0; a < m; a++) {
    for (let b = a; b < m; b++) {
      let s = 0;
      if (byRows) for (let j = 0; j < dim; j++) s += c[a * dim + j] * c[b * dim + j];
      else for (let r = 0; r < rows; r++) s += c[r * dim + a] * c[r * dim + b];
      g[a * m + b] = s;
      g[b * m + a] = s;
    }
  }
  const eig = symmetricEigenvalues(g, m);
  // the Gram matrix squares the singular values: an eigenvalue at rounding level (centring leaves one
  // exact zero) would come back as a singular value of ~1e-7 relative, where the SVD gives ~1e-15
  const floor = 1e-13 * Math.max(...eig);
  const sv = eig.map((e) => (e > floor ? Math.sqrt(e) : 0));
  const total = sv.reduce((a, b) => a + b, 0);
  if (total <= 0) return 1; // every row the same: one direction at most
  let entropy = 0;
  for (const s of sv) {
    const p = s / total;
    if (p > 1e-30) entropy -= p * Math.log(p);
  }
  return Math.exp(entropy);
}

/** Eigenvalues of a symmetric m x m matrix (row-major, overwritten): cyclic Jacobi rotations. */
function symmetricEigenvalues(a: Float64Array, m: number): Float64Array {
  let scale = 0;
  for (let i = 0; i < m * m; i++) scale += a[i] ** 2;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < m; p++) for (let q = p + 1; q < m; q++) off += a[p * m + q] ** 2;
    if (off <= 1e-24 * scale) break;
    for (let p = 0; p < m; p++) {
      for (let q = p + 1; q < m; q++) {
        const apq = a[p * m + q];
        if (apq === 0) continue;
        const theta = (a[q * m + q] - a[p * m + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const cs = 1 / Math.sqrt(t * t + 1);
        const sn = t * cs;
        for (let k = 0; k < m; k++) {
          const akp = a[k * m + p];
          const akq = a[k * m + q];
          a[k * m + p] = cs * akp - sn * akq;
          a[k * m + q] = sn * akp + cs * akq;
        }
        for (let k = 0; k < m; k++) {
          const apk = a[p * m + k];
          const aqk = a[q * m + k];
          a[p * m + k] = cs * apk - sn * aqk;
          a[q * m + k] = sn * apk + cs * aqk;
        }
      }
    }
  }
  return Float64Array.from({ length: m }, (_, i) => a[i * m + i]);
}
