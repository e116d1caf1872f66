/**
 * node --import tsx scripts/bench-rnn.ts ROOT BACKEND… (under `taskset -c 0` for one core)
 *
 * The RNN (N = 100, delay 20, bp + Oja) end to end with one worker, sequences/s per backend, of the
 * checkout at ROOT (absolute path; its sources are only imported): three rounds of 6 tasks after a
 * warm-up of 2, the backends alternating in order, median per backend. Used to hold the fused BPTT
 * kernel (Kernels.fused.rnnBack) against the checkout before it: run it once on each.
 */
const [root, ...bs] = process.argv.slice(2);
await import(`${root}/src/core/native.js`);
const { DEFAULT_CONFIG } = await import(`${root}/src/experiments/task.js`);
const { train } = await import(`${root}/src/experiments/train.js`);
const { closePools } = await import(`${root}/src/experiments/pool.js`);
const { nativeIsa } = await import(`${root}/src/core/wasm.js`);
const RNN = { ...DEFAULT_CONFIG, tasks: 1, net: "rnn", hidden: [100], delay: 20, theta: { bp: 0.003, oja: 0.002 } };
const rate = async (b: string, n: number) => { const r = await train({ ...RNN, backend: b, tasks: n }, 1); return (n * RNN.way * RNN.shots) / r.seconds; };
for (const b of bs) await rate(b, 2);
const out: Record<string, number[]> = {};
for (let k = 0; k < 3; k++) for (const b of k % 2 ? [...bs].reverse() : bs) (out[b] ??= []).push(await rate(b, 6));
console.log(root, nativeIsa(), JSON.stringify(Object.fromEntries(Object.entries(out).map(([b, xs]) => [b, Math.round([...xs].sort((x, y) => x - y)[1])]))));
await closePools();
