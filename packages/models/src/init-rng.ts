/**
 * The deterministic normal source behind initWeights. Each weight gets its own stream, seeded
 * from (seed, weight name), so adding a head or another layer never changes the other weights.
 * Kept local (not @cxr-ssl/data's createRng) so that initial weights for a seed stay the same
 * whatever happens to the data pipeline's RNG.
 */

/** FNV-1a 32-bit hash of a string, mixed with the seed. */
function hashSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** mulberry32: small, fast, good enough for weight init. Returns uniform floats in (0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
}

/** Fills `out` with normal(0, std) draws (Box-Muller), seeded from (seed, name). */
export function fillNormal(out: Float32Array, std: number, seed: number, name: string): Float32Array {
  const uniform = mulberry32(hashSeed(seed, name));
  for (let i = 0; i < out.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(uniform())) * std;
    const theta = 2 * Math.PI * uniform();
    out[i] = r * Math.cos(theta);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(theta);
  }
  return out;
}

/** Fills `out` with uniform(-bound, bound) draws, seeded from (seed, name). */
export function fillUniform(out: Float32Array, bound: number, seed: number, name: string): Float32Array {
  const uniform = mulberry32(hashSeed(seed, name));
  for (let i = 0; i < out.length; i++) out[i] = (2 * uniform() - 1) * bound;
  return out;
}
