/**
 * A small seedable pseudo-random generator for every random step in Film Atlas
 * (sample collections, k-means seeding, t-SNE/UMAP initialisation, sampling).
 * `Math.random` cannot be seeded, so nothing that must be reproducible from
 * `--seed` may use it.
 *
 * The generator is sfc32 (Chris Doty-Humphrey's Small Fast Counting generator,
 * 128-bit state, passes PractRand to multiple terabytes), seeded through
 * splitmix32 so that nearby seeds (7, 8, 9) give unrelated streams. It is pure
 * 32-bit integer arithmetic, so a seed gives the same numbers on every platform.
 *
 * `hashSeed(...parts)` derives independent sub-seeds from a seed and a path of
 * names and numbers (`hashSeed(seed, 'movie', 12, 'still', 3)`): work that is
 * split that way does not depend on how much other work was generated before it,
 * so a collection of 24 movies starts with exactly the collection of 10.
 */

/** A part of a derived seed: a number (integers are exact; other numbers use their float64 bits) or a name. */
export type SeedPart = number | string;

// splitmix32 finaliser (as in Java's SplittableRandom, 32-bit variant): a bijection on uint32
// with full avalanche, used both to expand a seed into sfc32's state and to mix hashSeed parts.
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

const GOLDEN = 0x9e3779b9;
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/**
 * A 32-bit seed derived from `parts`, order-sensitive and type-sensitive
 * (`hashSeed(1, 2) !== hashSeed(2, 1)`, `hashSeed(1) !== hashSeed('1')`).
 * Equal inputs give equal seeds on every run and platform.
 */
export function hashSeed(...parts: SeedPart[]): number {
  let h = 0x6a09e667 ^ parts.length;
  const absorb = (word: number): void => {
    h = mix32((h + GOLDEN) ^ mix32(word >>> 0));
  };
  for (const p of parts) {
    if (typeof p === 'string') {
      absorb(0x5354 + p.length); // tag: a string of this length
      for (let i = 0; i < p.length; i++) absorb(p.charCodeAt(i));
    } else if (Number.isInteger(p) && Math.abs(p) <= 0xffffffff) {
      absorb(p < 0 ? 0x4e45 : 0x4e50); // tag: a (negative) integer
      absorb(p < 0 ? -p : p);
    } else {
      f64[0] = p;
      absorb(0x4e46); // tag: any other float
      absorb(u32[0]);
      absorb(u32[1]);
    }
  }
  return h;
}

/** A seedable generator: `new Random(7)`, or `new Random(hashSeed(seed, 'movie', k))`. */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  /** Box–Muller makes normals in pairs; the second waits here. */
  private spare = Number.NaN;

  /** @param seed any number or name; equal seeds give equal streams (hashed, so 7 and 8 are unrelated). */
  constructor(seed: SeedPart = 0) {
    const s = hashSeed(seed);
    this.a = mix32(s + GOLDEN);
    this.b = mix32(s + 2 * GOLDEN);
    this.c = mix32(s + 3 * GOLDEN);
    this.d = 1;
    // The first outputs of a fresh sfc32 state are still correlated with the seed.
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform float in [0, 1) with 32 random bits. */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** A uniform integer in [0, n) without modulo bias; n a positive integer up to 2³². */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 4294967296) {
      throw new RangeError(`Random.int: n must be an integer 1–2^32 but got ${n}`);
    }
    // Rejection sampling: drop the top sliver of the 2^32 range that n does not divide.
    const limit = 4294967296 - (4294967296 % n);
    let x = this.uint32();
    while (x >= limit) x = this.uint32();
    return x % n;
  }

  /** A uniform float in [a, b). */
  range(a: number, b: number): number {
    return a + (b - a) * this.next();
  }

  /** A normal deviate (Box–Muller), mean 0 and standard deviation 1 unless given. */
  normal(mean = 0, sd = 1): number {
    if (!Number.isNaN(this.spare)) {
      const z = this.spare;
      this.spare = Number.NaN;
      return mean + sd * z;
    }
    let u = this.next();
    while (u === 0) u = this.next(); // log(0) is -Infinity
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return mean + sd * r * Math.cos(2 * Math.PI * v);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty array, uniformly. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Random.pick: the array is empty');
    return items[this.int(items.length)];
  }

  /** One element, chosen with probability proportional to its weight (weights ≥ 0, not all 0). */
  weighted<T>(items: readonly T[], weights: readonly number[]): T {
    if (items.length === 0 || items.length !== weights.length) {
      throw new RangeError(`Random.weighted: ${items.length} items but ${weights.length} weights`);
    }
    let total = 0;
    for (const w of weights) total += w;
    if (!(total > 0)) throw new RangeError('Random.weighted: the weights sum to 0');
    let x = this.next() * total;
    for (let i = 0; i < items.length; i++) {
      x -= weights[i];
      if (x < 0) return items[i];
    }
    return items[items.length - 1];
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = items[i];
      items[i] = items[j];
      items[j] = t;
    }
    return items;
  }

  /** An independent generator derived from this one's next output and `parts` (this one advances by one draw). */
  fork(...parts: SeedPart[]): Random {
    return new Random(hashSeed(this.uint32(), ...parts));
  }

  /** `next` as a plain function, for code that takes `() => number`. */
  asFunction(): () => number {
    return () => this.next();
  }
}
