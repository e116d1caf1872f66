/**
 * Seeded, splittable random numbers. Every random draw in neuroplastic comes
 * from an `Rng` passed in explicitly: the same seed gives the same bytes.
 *
 * Generator: xoshiro128** (Blackman & Vigna 2018), 32-bit so that it stays in
 * V8's small-integer arithmetic. Splitting is key-based, as in JAX: `child(i)`
 * derives an independent stream from this generator's *key* and `i` without
 * advancing the parent, so task t of a run has the same stream whichever
 * worker runs it and however many tasks ran before.
 */

/** SplitMix32-style finalizer (Steele et al. 2014): a bijective 32-bit mix. */
function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

export class Rng {
  /** The key this generator was made from; children are derived from it. */
  readonly key: readonly [number, number];
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number | readonly [number, number]) {
    const k: [number, number] = typeof seed === "number"
      ? [mix32(seed >>> 0), mix32((Math.floor(seed / 4294967296) ^ 0x5bd1e995) >>> 0)]
      : [seed[0] >>> 0, seed[1] >>> 0];
    this.key = k;
    // Seed the 128-bit state from the key; never all zero (xoshiro's one bad state).
    this.s0 = mix32(k[0] ^ 0x243f6a88);
    this.s1 = mix32(k[1] ^ 0x85a308d3);
    this.s2 = mix32((k[0] + 0x13198a2e) ^ k[1]);
    this.s3 = mix32((k[1] + 0x03707344) ^ k[0]) | 1;
  }

  /** An independent stream for index `i` (e.g. a task number); does not advance this one. */
  child(i: number): Rng {
    const a = mix32(this.key[0] ^ mix32(i >>> 0));
    const b = mix32(this.key[1] ^ mix32(a ^ (Math.floor(i / 4294967296) >>> 0) ^ 0x9e3779b9));
    return new Rng([a, b]);
  }

  /** Copy the 128-bit state out (a kernel that draws the same stream, src/core/wasm.ts uniformFill)… */
  saveState(to: Uint32Array): void { to[0] = this.s0; to[1] = this.s1; to[2] = this.s2; to[3] = this.s3; }
  /** …and take it back (as int32, the form nextU32 keeps). */
  loadState(from: Uint32Array): void { this.s0 = from[0] | 0; this.s1 = from[1] | 0; this.s2 = from[2] | 0; this.s3 = from[3] | 0; }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const s0 = this.s0, s1 = this.s1, s2 = this.s2, s3 = this.s3;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
    const t = s1 << 9;
    let n2 = s2 ^ s0;
    let n3 = s3 ^ s1;
    const n1 = s1 ^ n2;
    const n0 = s0 ^ n3;
    n2 ^= t;
    n3 = rotl(n3, 11);
    this.s0 = n0; this.s1 = n1; this.s2 = n2; this.s3 = n3;
    return r >>> 0;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextU32() >>> 5, b = this.nextU32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Standard normal (Box–Muller; one value per call so the stream never depends on call parity). */
  normal(): number {
    let u = this.uniform();
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling). */
  int(n: number): number {
    if (!(n >= 1 && n <= 4294967296)) throw new RangeError(`Rng.int: n must be in [1, 2^32], got ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    let x = this.nextU32();
    while (x >= limit) x = this.nextU32();
    return x % n;
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T extends { length: number; [i: number]: any }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i]; a[i] = a[j]; a[j] = t;
    }
    return a;
  }

  /**
   * `k` distinct items of `pool`, in random order: a partial Fisher–Yates
   * shuffle of a copy, whose first k items are returned. The copy is kept
   * sparse (only the positions a swap has touched), so drawing 60 of a
   * 6,000-example class costs 60 steps, not 6,000; the draws and the result
   * are the full copy's.
   */
  sample<T>(pool: ArrayLike<T>, k: number): T[] {
    const n = pool.length;
    if (k > n) throw new RangeError(`cannot draw ${k} distinct items from ${n}`);
    const moved = new Map<number, T>();
    const at = (i: number): T => (moved.has(i) ? moved.get(i)! : pool[i]);
    const out: T[] = new Array(k);
    for (let i = 0; i < k; i++) {
      const j = i + this.int(n - i);
      const t = at(j);
      // Position j takes a[i]; a[i] = t is final (later swaps only touch positions > i).
      moved.set(j, at(i));
      out[i] = t;
    }
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
