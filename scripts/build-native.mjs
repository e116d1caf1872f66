// Install step: compile the native kernels (native/kern.c once per target, native/addon.c)
// into build/native.node, an N-API addon, with the C compiler and Node's own headers
// (node_api.h beside the running node). Never fails the install: without a compiler,
// without the headers, or with NEUROPLASTIC_NATIVE=0, it says so in one line and Node
// runs the WebAssembly kernels. -ffp-contract=off: no FMA contraction, so the floats are
// the wasm kernels' own (native/kern.c says why); no -ffast-math.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// NEUROPLASTIC_NATIVE_OUT: another place for the addon (the tests build into a temporary folder).
const out = process.env.NEUROPLASTIC_NATIVE_OUT || join(root, "build", "native.node");
const say = (msg) => console.error(`native kernels: ${msg}`);

function skip(why, reason = why.replace(/^not built \((.*)\)$/, "$1")) {
  // A stale addon from an earlier build must not load after a build that was refused or failed.
  rmSync(out, { force: true });
  // The reason, for src/core/native.ts to give when a run asks for the native kernels.
  try { mkdirSync(dirname(out), { recursive: true }); writeFileSync(`${out}.skipped`, `${reason}\n`); } catch { /* the line below says it */ }
  say(`${why}; Node uses the WebAssembly kernels`);
  process.exit(0);
}

if (process.env.NEUROPLASTIC_NATIVE === "0") skip("not built (NEUROPLASTIC_NATIVE=0)", "NEUROPLASTIC_NATIVE=0 at install");
const cc = process.env.CC || "cc";
const include = [join(dirname(process.execPath), "..", "include", "node"), "/usr/include/node", "/usr/local/include/node"].find((d) =>
  existsSync(join(d, "node_api.h")),
);
if (include === undefined) skip("not built (no node_api.h beside this node)");
const x86 = process.arch === "x64";
const common = ["-O2", "-fPIC", "-ffp-contract=off", "-fno-fast-math", "-fno-strict-aliasing", "-fvisibility=hidden", "-std=gnu11", "-Wall"];
const tmp = mkdtempSync(join(tmpdir(), "neuroplastic-native-"));
try {
  const objs = [];
  const compile = (src, o, flags) => {
    execFileSync(cc, [...common, ...flags, "-c", join(root, "native", src), "-o", join(tmp, o)], { stdio: ["ignore", "ignore", "pipe"] });
    objs.push(join(tmp, o));
  };
  compile("kern.c", "portable.o", ["-DVW=4", "-DSUF=_portable"]);
  if (x86) {
    compile("kern.c", "avx2.o", ["-DVW=8", "-DSUF=_avx2", "-mavx2"]);
    compile("kern.c", "avx512.o", ["-DVW=16", "-DSUF=_avx512", "-mavx512f"]);
    // native-fast (--backend native-fast, off by default): FMA contraction and wide reductions, not wasm's floats.
    const fast = ["-DNP_FAST", "-mfma", "-ffp-contract=fast"];
    compile("kern.c", "avx2fast.o", ["-DVW=8", "-DSUF=_avx2fast", "-mavx2", ...fast]);
    compile("kern.c", "avx512fast.o", ["-DVW=16", "-DSUF=_avx512fast", "-mavx512f", ...fast]);
  }
  // The sources' hash, as src/core/native.ts computes it, so that an addon left from other sources is refused at load.
  const h = createHash("sha256");
  for (const f of ["kern.c", "addon.c"]) h.update(readFileSync(join(root, "native", f)));
  const source = h.digest("hex").slice(0, 16);
  compile("addon.c", "addon.o", [`-I${include}`, `-DNP_SOURCE="${source}"`, ...(x86 ? ["-DNP_X86"] : [])]);
  mkdirSync(dirname(out), { recursive: true });
  const part = `${out}.tmp`;
  execFileSync(cc, ["-shared", ...objs, "-o", part], { stdio: ["ignore", "ignore", "pipe"] });
  renameSync(part, out);
  rmSync(`${out}.skipped`, { force: true });
  say(`${out === join(root, "build", "native.node") ? "build/native.node" : out} (${x86 ? "avx512 / avx2 / portable, chosen at load; native-fast avx512 / avx2 with FMA" : "portable"})`);
} catch (e) {
  const first = String(e.stderr ?? e.message ?? e).split("\n").find((l) => l.trim() !== "") ?? "failed";
  skip(`not built (${cc}: ${first.trim().slice(0, 160)})`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
