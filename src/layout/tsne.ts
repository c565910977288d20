/**
 * t-SNE to 2-D in O(n log n)-ish time, after openTSNE / FIt-SNE (Linderman et al.,
 * "Fast interpolation-based t-SNE", Nature Methods 2019):
 *
 * 1. Input affinities from the exact k-NN graph (k = 3·perplexity, numeric/knn.ts):
 *    σᵢ by binary search so each row of p(j|i) has the asked perplexity, then
 *    P = (P + Pᵀ)/2n, a sparse matrix in CSR typed arrays.
 * 2. Gradient descent (openTSNE's convention, without the factor 4; so the learning
 *    rate max(200, n/12) matches scikit-learn's n/48): early exaggeration 12 for
 *    250 iterations with momentum 0.5, then exaggeration 1 and momentum 0.8;
 *    delta-bar-delta gains (+0.2 / ×0.8, floor 0.01).
 * 3. Attractive forces over the nnz of P. Repulsive forces and the normaliser Z by
 *    FFT-accelerated interpolation: the embedding's bounding square is cut into
 *    ≥ 50 boxes a side (at most one unit wide), with 3 Lagrange nodes per box a
 *    side; the four charge sets (1, y₁, y₂, ‖y‖²) are spread to the nodes, convolved
 *    with the kernel (1 + ‖Δ‖²)⁻² on the uniform node grid by a zero-padded 2-D FFT
 *    and interpolated back — O(n + m log m) per iteration for m grid nodes. Below
 *    EXACT_BELOW points the repulsion is summed exactly instead (O(n²), faster there).
 *
 * Everything lives in typed arrays; the only random step (a random initialisation)
 * uses the seeded generator, so a seed gives the same map on every run.
 */
import { AtlasError, throwIfAborted } from '../errors.js';
import { selfNeighbours, type KnnResult } from '../numeric/knn.js';
import { Random } from '../numeric/random.js';
import type { Matrix, StageOptions } from '../types.js';
import { bothWays } from '../numeric/sparse.js';
import { checkChoice, checkInt, checkNumber } from '../validate.js';

export interface TsneOptions extends StageOptions {
  /** Effective number of neighbours. Default 30; > 0 and at most (n − 1)/3. */
  perplexity?: number;
  /** Total gradient-descent iterations, early exaggeration included. Default 750; 1–100,000. */
  iterations?: number;
  /** Seed of the random initialisation (init 'random'). Default 0. */
  seed?: number;
  /**
   * Accuracy of the repulsion approximation, as Barnes-Hut's θ: the interpolation
   * grid's box width is at most θ·2 embedding units (θ = 0.5 → one unit, FIt-SNE's
   * default). Default 0.5; 0.1–1.
   */
  theta?: number;
  /** ONNX Runtime threads for the k-NN products. Default: all cores. */
  threads?: number;
  /** Initialisation: the first two columns of x (x is PCA output) scaled to std 1e-4, or seeded normal noise of that std. Default 'pca'. */
  init?: 'pca' | 'random';
  /** Early exaggeration. Default 12; ≥ 1. */
  earlyExaggeration?: number;
  /** Iterations of early exaggeration (within `iterations`). Default 250; ≥ 0. */
  exaggerationIterations?: number;
  /** Learning rate. Default max(200, n/12). */
  learningRate?: number;
  /**
   * The exact k-NN of x's rows, self excluded (numeric/knn.ts), when the caller has
   * it already (e.g. for UMAP too): k ≥ 3·perplexity; the first 3·perplexity are used.
   * Default: computed here.
   */
  knn?: KnnResult;
  /** Repulsion: 'fft' (interpolation), 'exact' (O(n²)) or 'auto' (exact below 1,500 points). Default 'auto'. */
  repulsion?: 'auto' | 'fft' | 'exact';
}

const EXACT_BELOW = 1500;
/** Largest FFT side: 2,048 holds 1,023 nodes a side, a map 341 units wide at box width 1. */
const MAX_FFT = 2048;
/** Fewest interpolation boxes a side (FIt-SNE: 50). */
const MIN_BOXES = 40;

/** Sparse symmetric P in CSR form. */
export interface Affinities {
  n: number;
  rowPtr: Int32Array;
  cols: Int32Array;
  vals: Float64Array;
}

/**
 * p(j|i) over each row's k neighbours (squared distances), σ chosen by bisection on
 * β = 1/2σ² so that the entropy is log(perplexity); then symmetrised, summing to 1.
 */
export function affinities(
  n: number,
  k: number,
  indices: Int32Array,
  distances: Float32Array,
  perplexity: number,
): Affinities {
  const cond = new Float64Array(n * k);
  const target = Math.log(perplexity);
  const d2 = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const o = i * k;
    let dmin = Infinity;
    for (let t = 0; t < k; t++) {
      d2[t] = distances[o + t] * distances[o + t];
      if (d2[t] < dmin) dmin = d2[t];
    }
    for (let t = 0; t < k; t++) d2[t] -= dmin;
    let beta = 1;
    let lo = -Infinity;
    let hi = Infinity;
    for (let iter = 0; iter < 200; iter++) {
      let sum = 0;
      let sumDP = 0;
      for (let t = 0; t < k; t++) {
        const p = Math.exp(-d2[t] * beta);
        cond[o + t] = p;
        sum += p;
        sumDP += d2[t] * p;
      }
      const h = Math.log(sum) + (beta * sumDP) / sum;
      const diff = h - target;
      if (Math.abs(diff) < 1e-5) break;
      if (diff > 0) {
        lo = beta;
        beta = hi === Infinity ? beta * 2 : (beta + hi) / 2;
      } else {
        hi = beta;
        beta = lo === -Infinity ? beta / 2 : (beta + lo) / 2;
      }
    }
    let sum = 0;
    for (let t = 0; t < k; t++) sum += cond[o + t];
    for (let t = 0; t < k; t++) cond[o + t] /= sum;
  }
  // Symmetrise: row i gets (i→j) and (j→i) entries, duplicates merged in place.
  const { start, cols, vals } = bothWays(indices, cond, n, k);
  const pos = new Int32Array(n).fill(-1);
  const rowPtr = new Int32Array(n + 1);
  let w = 0;
  const scale = 1 / (2 * n);
  for (let i = 0; i < n; i++) {
    const rowStart = w;
    for (let e = start[i]; e < start[i + 1]; e++) {
      const c = cols[e];
      if (pos[c] >= 0) vals[pos[c]] += vals[e];
      else {
        pos[c] = w;
        cols[w] = c;
        vals[w] = vals[e];
        w++;
      }
    }
    for (let e = rowStart; e < w; e++) {
      pos[cols[e]] = -1;
      vals[e] *= scale;
    }
    rowPtr[i + 1] = w;
  }
  return { n, rowPtr, cols: cols.slice(0, w), vals: vals.slice(0, w) };
}

/**
 * 2-D complex FFT of an m×m grid (m a power of two) held as separate re/im
 * Float64Arrays, row-major. Row transforms run one row at a time; column transforms
 * run as whole-row butterflies (row a ± w·row b), so the inner loop walks memory
 * contiguously and no column is ever copied out.
 */
class Fft2 {
  readonly m: number;
  /** Twiddles of every stage, stage `half` at [half − 1, 2·half − 1): e^{−2πij/2half}. */
  private readonly twRe: Float64Array;
  private readonly twIm: Float64Array;
  private readonly rev: Uint32Array;

  constructor(m: number) {
    this.m = m;
    this.twRe = new Float64Array(Math.max(1, m - 1));
    this.twIm = new Float64Array(Math.max(1, m - 1));
    for (let half = 1; half < m; half <<= 1)
      for (let j = 0; j < half; j++) {
        this.twRe[half - 1 + j] = Math.cos((Math.PI * j) / half);
        this.twIm[half - 1 + j] = -Math.sin((Math.PI * j) / half);
      }
    this.rev = new Uint32Array(m);
    const bits = Math.round(Math.log2(m));
    for (let i = 0; i < m; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >>> b) & 1) << (bits - 1 - b);
      this.rev[i] = r;
    }
  }

  /** Forward 1-D transform of re/im[off … off+m). */
  private row(re: Float64Array, im: Float64Array, off: number): void {
    const m = this.m;
    const rev = this.rev;
    for (let i = 0; i < m; i++) {
      const j = rev[i];
      if (j > i) {
        let t = re[off + i];
        re[off + i] = re[off + j];
        re[off + j] = t;
        t = im[off + i];
        im[off + i] = im[off + j];
        im[off + j] = t;
      }
    }
    // Stage 1 (twiddle 1) on its own: it is half the loop overhead otherwise.
    for (let a = off; a < off + m; a += 2) {
      const xr = re[a + 1];
      const xi = im[a + 1];
      re[a + 1] = re[a] - xr;
      im[a + 1] = im[a] - xi;
      re[a] += xr;
      im[a] += xi;
    }
    const twRe = this.twRe;
    const twIm = this.twIm;
    for (let half = 2; half < m; half <<= 1) {
      const len = half << 1;
      for (let j = 0; j < half; j++) {
        const wr = twRe[half - 1 + j];
        const wi = twIm[half - 1 + j];
        for (let a = off + j; a < off + m; a += len) {
          const b = a + half;
          const xr = re[b] * wr - im[b] * wi;
          const xi = re[b] * wi + im[b] * wr;
          re[b] = re[a] - xr;
          im[b] = im[a] - xi;
          re[a] += xr;
          im[a] += xi;
        }
      }
    }
  }

  /** Forward 1-D transforms of every column, as row butterflies. */
  private columns(re: Float64Array, im: Float64Array): void {
    const m = this.m;
    const rev = this.rev;
    for (let i = 0; i < m; i++) {
      const j = rev[i];
      if (j > i) {
        const a = i * m;
        const b = j * m;
        for (let c = 0; c < m; c++) {
          let t = re[a + c];
          re[a + c] = re[b + c];
          re[b + c] = t;
          t = im[a + c];
          im[a + c] = im[b + c];
          im[b + c] = t;
        }
      }
    }
    const twRe = this.twRe;
    const twIm = this.twIm;
    for (let half = 1; half < m; half <<= 1) {
      const len = half << 1;
      for (let s = 0; s < m; s += len)
        for (let j = 0; j < half; j++) {
          const wr = twRe[half - 1 + j];
          const wi = twIm[half - 1 + j];
          const a = (s + j) * m;
          const b = a + half * m;
          for (let c = 0; c < m; c++) {
            const br = re[b + c];
            const bi = im[b + c];
            const xr = br * wr - bi * wi;
            const xi = br * wi + bi * wr;
            re[b + c] = re[a + c] - xr;
            im[b + c] = im[a + c] - xi;
            re[a + c] += xr;
            im[a + c] += xi;
          }
        }
    }
  }

  /**
   * Forward 2-D transform; only the first `rows` rows may be non-zero (the rest
   * skip their row transforms).
   */
  forward(re: Float64Array, im: Float64Array, rows: number): void {
    for (let r = 0; r < rows; r++) this.row(re, im, r * this.m);
    this.columns(re, im);
  }

  /**
   * Inverse 2-D transform, unnormalised (×m²), of which only the first `rows` rows
   * are wanted (the others are left half-done). Forward on swapped parts.
   */
  inverse(re: Float64Array, im: Float64Array, rows: number): void {
    this.columns(im, re);
    for (let r = 0; r < rows; r++) this.row(im, re, r * this.m);
  }
}

/**
 * Repulsion by FFT-accelerated interpolation. Three kernels on the node grid:
 * q = (1+‖Δ‖²)⁻¹ for Z, and q²·Δ₁, q²·Δ₂ for the force, each convolved with the
 * interpolated point density. (FIt-SNE's four charges 1, y₁, y₂, ‖y‖² against q²
 * need one kernel less but subtract numbers of size ‖y‖², losing ~1% of Z on a
 * map 100 units wide; these kernels never cancel.) The node spacing is rounded up
 * to a step of 2^(1/8), so the kernels' spectra are reused across the iterations
 * in which the map's width stays within one step: three 2-D FFTs per iteration
 * instead of five. Buffers are kept between iterations and regrown only when the
 * grid grows.
 */
export class FftRepulsion {
  private fft?: Fft2;
  private m = 0;
  private cRe = new Float64Array(0);
  private cIm = new Float64Array(0);
  private bRe = new Float64Array(0);
  private bIm = new Float64Array(0);
  /** Cached kernel spectra: Q − S₁ and S₂ (see compute), for node spacing `kernelH`. */
  private kQS = new Float64Array(0);
  private kS2 = new Float64Array(0);
  private kernelH = 0;
  private node = new Int32Array(0);
  private wx = new Float64Array(0);
  private wy = new Float64Array(0);
  /** Grid side used by the last call (nodes per side), for tests and notes. */
  lastNodes = 0;

  /**
   * @param boxWidth the widest box, in embedding units (FIt-SNE: 1), while the grid
   *   fits `maxFft`; wider maps get wider boxes.
   * @param maxFft the largest FFT side (a power of two).
   * @param points interpolation nodes per box a side (FIt-SNE: 3).
   */
  constructor(
    private readonly boxWidth = 1,
    private readonly maxFft = MAX_FFT,
    private readonly points = 3,
  ) {}

  private lagrangeDenominators(P: number): Float64Array {
    const out = new Float64Array(P);
    for (let k = 0; k < P; k++) {
      let d = 1;
      for (let j = 0; j < P; j++) if (j !== k) d *= (k - j) / P;
      out[k] = 1 / d;
    }
    return out;
  }

  private ensure(m: number, n: number): void {
    if (this.m !== m) {
      this.m = m;
      this.fft = new Fft2(m);
      for (const key of ['cRe', 'cIm', 'bRe', 'bIm', 'kQS', 'kS2'] as const)
        this[key] = new Float64Array(m * m);
      this.kernelH = 0;
    }
    if (this.node.length < n) {
      this.node = new Int32Array(n);
      this.wx = new Float64Array(n * this.points);
      this.wy = new Float64Array(n * this.points);
    }
  }

  /**
   * Spectra of the kernels on node offsets up to ±(extent − 1), wrapped circularly:
   * a = q + q²Δ₁ (q even → real spectrum Q; q²Δ₁ odd in Δ₁ → imaginary spectrum
   * i·S₁, so one transform yields both) and b = q²Δ₂ (spectrum i·S₂).
   */
  private kernels(h: number, extent: number): void {
    const m = this.m;
    const fft = this.fft as Fft2;
    const { cRe: aRe, cIm: aIm, bRe, bIm } = this;
    aRe.fill(0);
    aIm.fill(0);
    bRe.fill(0);
    bIm.fill(0);
    for (let dy = 1 - extent; dy < extent; dy++) {
      const ry = (dy + m) % m;
      for (let dx = 1 - extent; dx < extent; dx++) {
        const ex = dx * h;
        const ey = dy * h;
        const q = 1 / (1 + ex * ex + ey * ey);
        const g = ry * m + ((dx + m) % m);
        aRe[g] = q + q * q * ex;
        bRe[g] = q * q * ey;
      }
    }
    fft.forward(aRe, aIm, m);
    fft.forward(bRe, bIm, m);
    for (let g = 0; g < m * m; g++) {
      this.kQS[g] = aRe[g] - aIm[g];
      this.kS2[g] = bIm[g];
    }
    this.kernelH = h;
  }

  /**
   * Writes the repulsive force Σⱼ qᵢⱼ²(yᵢ − yⱼ)/Z into `out` (n×2) for qᵢⱼ = 1/(1+‖yᵢ−yⱼ‖²)
   * and returns Z = Σ_{i≠j} qᵢⱼ.
   */
  compute(y: Float64Array, n: number, out: Float64Array): number {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < 2 * n; i++) {
      const v = y[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    let spread = hi - lo;
    if (!(spread > 0)) spread = 1e-6;
    spread *= 1 + 1e-9;
    // Boxes: at least MIN_BOXES a side and at most boxWidth wide, P nodes each; the
    // FFT side m ≥ 2·nodes is a power of two, and the boxes fill what it holds.
    const P = this.points;
    const wanted = Math.max(MIN_BOXES, Math.ceil(spread / this.boxWidth));
    let m = 16;
    while (m < 2 * P * wanted && m < this.maxFft) m <<= 1;
    const maxBoxes = Math.floor(m / (2 * P));
    const hExact = spread / (P * maxBoxes);
    const h = 2 ** (Math.ceil(8 * Math.log2(hExact)) / 8);
    const bw = P * h;
    const boxes = Math.min(maxBoxes, Math.ceil(spread / bw));
    const nodes = P * boxes;
    this.lastNodes = nodes;
    this.ensure(m, n);
    if (this.kernelH !== h) this.kernels(h, P * maxBoxes);
    const { cRe, cIm, bRe, bIm, kQS, kS2, node, wx, wy } = this;
    const fft = this.fft as Fft2;
    // Point density on the nodes. Lagrange basis on the nodes at (k + ½)/P of a
    // box: wₖ(f) = Πⱼ≠ₖ (f − tⱼ)/(tₖ − tⱼ).
    cRe.fill(0);
    cIm.fill(0);
    const lag = this.lagrangeDenominators(P);
    for (let i = 0; i < n; i++) {
      const ux = (y[2 * i] - lo) / bw;
      const uy = (y[2 * i + 1] - lo) / bw;
      const bx = Math.min(boxes - 1, Math.floor(ux));
      const by = Math.min(boxes - 1, Math.floor(uy));
      const fx = ux - bx;
      const fy = uy - by;
      for (let k = 0; k < P; k++) {
        let px = lag[k];
        let py = lag[k];
        for (let j = 0; j < P; j++) {
          if (j === k) continue;
          const tj = (j + 0.5) / P;
          px *= fx - tj;
          py *= fy - tj;
        }
        wx[P * i + k] = px;
        wy[P * i + k] = py;
      }
      const base = P * by * m + P * bx;
      node[i] = base;
      for (let a = 0; a < P; a++)
        for (let b = 0; b < P; b++) cRe[base + a * m + b] += wy[P * i + a] * wx[P * i + b];
    }
    fft.forward(cRe, cIm, nodes);
    // With C the density's spectrum: c ← C·Q + i·(C·i·S₁) = C·(Q − S₁), whose inverse
    // is (q ∗ density) + i·(q²Δ₁ ∗ density), both real; b ← C·i·S₂, whose inverse
    // is q²Δ₂ ∗ density.
    for (let g = 0; g < m * m; g++) {
      const cr = cRe[g];
      const ci = cIm[g];
      const qs = kQS[g];
      const s2 = kS2[g];
      cRe[g] = cr * qs;
      cIm[g] = ci * qs;
      bRe[g] = -s2 * ci;
      bIm[g] = s2 * cr;
    }
    fft.inverse(cRe, cIm, nodes);
    fft.inverse(bRe, bIm, nodes);
    const norm = 1 / (m * m);
    let z = 0;
    for (let i = 0; i < n; i++) {
      const base = node[i];
      let pz = 0;
      let p1 = 0;
      let p2 = 0;
      for (let a = 0; a < P; a++)
        for (let b = 0; b < P; b++) {
          const w = wy[P * i + a] * wx[P * i + b];
          const g = base + a * m + b;
          pz += w * cRe[g];
          p1 += w * cIm[g];
          p2 += w * bRe[g];
        }
      z += pz * norm;
      out[2 * i] = p1 * norm;
      out[2 * i + 1] = p2 * norm;
    }
    z -= n;
    if (!(z > 0)) z = 1e-12;
    for (let i = 0; i < 2 * n; i++) out[i] /= z;
    return z;
  }
}

/** Exact O(n²) repulsion, same contract as FftRepulsion.compute. */
export function exactRepulsion(y: Float64Array, n: number, out: Float64Array): number {
  out.fill(0, 0, 2 * n);
  let z = 0;
  for (let i = 0; i < n; i++) {
    const xi = y[2 * i];
    const yi = y[2 * i + 1];
    let fx = 0;
    let fy = 0;
    for (let j = i + 1; j < n; j++) {
      const dx = xi - y[2 * j];
      const dy = yi - y[2 * j + 1];
      const q = 1 / (1 + dx * dx + dy * dy);
      z += 2 * q;
      const q2 = q * q;
      fx += q2 * dx;
      fy += q2 * dy;
      out[2 * j] -= q2 * dx;
      out[2 * j + 1] -= q2 * dy;
    }
    out[2 * i] += fx;
    out[2 * i + 1] += fy;
  }
  if (!(z > 0)) z = 1e-12;
  for (let i = 0; i < 2 * n; i++) out[i] /= z;
  return z;
}

/**
 * t-SNE of the rows of `x` (typically n × 50 PCA output) to 2-D. Returns n×2
 * row-major float32 coordinates. Progress: stage 'knn' then 'tsne' (one event per
 * iteration, with the KL divergence in the note every 50).
 */
export async function tsne(x: Matrix, opts: TsneOptions = {}): Promise<Float32Array> {
  const n = x.rows;
  const perplexity = opts.perplexity ?? 30;
  checkNumber('perplexity', perplexity, Number.MIN_VALUE, 1e6);
  const iterations = opts.iterations ?? 750;
  checkInt('iterations', iterations, 1, 100000);
  const theta = opts.theta ?? 0.5;
  checkNumber('theta', theta, 0.1, 1);
  const early = opts.earlyExaggeration ?? 12;
  checkNumber('earlyExaggeration', early, 1, 1000);
  const earlyIterations = Math.min(iterations, opts.exaggerationIterations ?? 250);
  checkInt('exaggerationIterations', opts.exaggerationIterations, 0, 100000);
  const lr = opts.learningRate ?? Math.max(200, n / 12);
  checkNumber('learningRate', lr, Number.MIN_VALUE, 1e9);
  const init = opts.init ?? 'pca';
  checkChoice('init', init, ['pca', 'random']);
  const repulsionMode = opts.repulsion ?? 'auto';
  checkChoice('repulsion', repulsionMode, ['auto', 'fft', 'exact']);
  if (x.data.length < n * x.cols)
    throw new AtlasError(
      'INVALID_ARGUMENT',
      `matrix holds ${x.data.length} values, fewer than ${n}×${x.cols}`,
      { value: String(x.data.length) },
    );
  const k = Math.floor(3 * perplexity);
  if (k < 1 || k > n - 1)
    throw new AtlasError(
      'INVALID_ARGUMENT',
      `perplexity ${perplexity} needs ${k} neighbours per point (3·perplexity), but ${n} points have at most ${Math.max(0, n - 1)}`,
      {
        value: String(perplexity),
        suggestion: `use a perplexity below ${Math.max(0, (n - 1) / 3).toFixed(1)} or more stills`,
      },
    );
  throwIfAborted(opts.signal);

  const nn = await selfNeighbours(x, k, { ...opts, given: opts.knn });
  const P = affinities(n, k, nn.indices, nn.distances, perplexity);

  // Initialisation, centred, std 1e-4.
  const y = new Float64Array(2 * n);
  const rng = new Random(opts.seed ?? 0);
  let usePca = init === 'pca' && x.cols >= 2;
  if (usePca) {
    let m0 = 0;
    let m1 = 0;
    for (let i = 0; i < n; i++) {
      m0 += x.data[i * x.cols];
      m1 += x.data[i * x.cols + 1];
    }
    m0 /= n;
    m1 /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (x.data[i * x.cols] - m0) ** 2;
    const sd = Math.sqrt(v / n);
    if (sd > 0) {
      for (let i = 0; i < n; i++) {
        y[2 * i] = ((x.data[i * x.cols] - m0) / sd) * 1e-4;
        y[2 * i + 1] = ((x.data[i * x.cols + 1] - m1) / sd) * 1e-4;
      }
    } else usePca = false;
  }
  if (!usePca) for (let i = 0; i < 2 * n; i++) y[i] = rng.normal(0, 1e-4);

  const useFft = repulsionMode === 'fft' || (repulsionMode === 'auto' && n >= EXACT_BELOW);
  const fft = new FftRepulsion(2 * theta);
  const rep = new Float64Array(2 * n);
  const grad = new Float64Array(2 * n);
  const update = new Float64Array(2 * n);
  const gains = new Float64Array(2 * n).fill(1);
  const { rowPtr, cols, vals } = P;
  let plogp = 0;
  for (let e = 0; e < vals.length; e++) plogp += vals[e] * Math.log(vals[e]);

  for (let iter = 0; iter < iterations; iter++) {
    throwIfAborted(opts.signal);
    const exaggerating = iter < earlyIterations;
    if (iter === earlyIterations && iter > 0) {
      update.fill(0);
      gains.fill(1);
    }
    const exaggeration = exaggerating ? early : 1;
    const momentum = exaggerating ? 0.5 : 0.8;
    const z = useFft ? fft.compute(y, n, rep) : exactRepulsion(y, n, rep);
    const report = (iter + 1) % 50 === 0 || iter === iterations - 1;
    let plogq = 0;
    for (let i = 0; i < n; i++) {
      const yi0 = y[2 * i];
      const yi1 = y[2 * i + 1];
      let a0 = 0;
      let a1 = 0;
      for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
        const j = cols[e];
        const d0 = yi0 - y[2 * j];
        const d1 = yi1 - y[2 * j + 1];
        const q = 1 / (1 + d0 * d0 + d1 * d1);
        const w = vals[e] * q;
        a0 += w * d0;
        a1 += w * d1;
        if (report) plogq += vals[e] * Math.log(q);
      }
      grad[2 * i] = exaggeration * a0 - rep[2 * i];
      grad[2 * i + 1] = exaggeration * a1 - rep[2 * i + 1];
    }
    let c0 = 0;
    let c1 = 0;
    for (let i = 0; i < 2 * n; i++) {
      const g = grad[i];
      const u = update[i];
      let gain = gains[i];
      gain = g * u < 0 ? gain + 0.2 : gain * 0.8; // scikit-learn's rule: grow while the direction flips
      if (gain < 0.01) gain = 0.01;
      gains[i] = gain;
      const nu = momentum * u - lr * gain * g;
      update[i] = nu;
      y[i] += nu;
      if (i & 1) c1 += y[i];
      else c0 += y[i];
    }
    // Keep the embedding centred (the gradient is translation-invariant).
    c0 /= n;
    c1 /= n;
    for (let i = 0; i < n; i++) {
      y[2 * i] -= c0;
      y[2 * i + 1] -= c1;
    }
    if (!Number.isFinite(y[0]))
      throw new AtlasError('STATE', `t-SNE diverged at iteration ${iter + 1} (learning rate ${lr})`, {
        value: String(lr),
        suggestion: 'use a smaller learning rate',
      });
    const note = report
      ? `KL ${(plogp - plogq + Math.log(z)).toFixed(4)}${useFft ? `, grid ${fft.lastNodes}²` : ''}`
      : undefined;
    opts.onProgress?.({ stage: 'tsne', done: iter + 1, total: iterations, ...(note ? { note } : {}) });
    // Let timers and signal handlers run between iterations.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throwIfAborted(opts.signal);
  return Float32Array.from(y);
}
