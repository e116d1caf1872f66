#!/usr/bin/env node
// The architecture's budget, checked in CI (npm test): no import cycle between the folders of src/ (value
// imports, type-only imports included: a type pulls its folder's meaning along), and at most LINE_BUDGET lines
// over 160 characters in src/ and asm/ (tinygrad keeps a line budget the same way). Prints the cycle or the
// offending lines, and exits 1.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const LINE_BUDGET = Number(process.env.LINE_BUDGET ?? 4), WIDTH = 160;
const root = resolve(dirname(new URL(import.meta.url).pathname), "..");
const files = (dir) => readdirSync(dir).flatMap((f) => {
  const p = join(dir, f);
  return statSync(p).isDirectory() ? files(p) : /\.ts$/.test(f) && !/wasm-binary\.ts$/.test(f) ? [p] : [];
});
const src = join(root, "src");
// A file's folder: src/<folder>/…; files directly in src/ (the entries) are their own layer, above everything.
const folderOf = (p) => { const r = relative(src, p).split("/"); return r.length === 1 ? "(entry)" : r[0]; };
const edges = new Map();
for (const f of files(src)) {
  const from = folderOf(f);
  for (const m of readFileSync(f, "utf8").matchAll(/^\s*(?:import|export)\s[^;]*?from\s+"(\.{1,2}\/[^"]+)"/gms)) {
    const to = folderOf(resolve(dirname(f), m[1]));
    if (to === from) continue;
    if (!edges.has(from)) edges.set(from, new Map());
    const e = edges.get(from);
    if (!e.has(to)) e.set(to, `${relative(root, f)} → ${m[1]}`);
  }
}
let failed = false;
// Tarjan's strongly connected components over folders.
let index = 0; const idx = new Map(), low = new Map(), stack = [], on = new Set(), sccs = [];
const visit = (v) => {
  idx.set(v, index); low.set(v, index); index++; stack.push(v); on.add(v);
  for (const w of edges.get(v)?.keys() ?? []) {
    if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v), low.get(w))); }
    else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) { const c = []; let w; do { w = stack.pop(); on.delete(w); c.push(w); } while (w !== v); sccs.push(c); }
};
for (const v of edges.keys()) if (!idx.has(v)) visit(v);
for (const c of sccs.filter((c) => c.length > 1)) {
  failed = true;
  console.error(`check-layers: import cycle between folders of src/: ${c.sort().join(", ")}`);
  for (const a of c) for (const [b, why] of edges.get(a) ?? []) if (c.includes(b)) console.error(`  ${a} → ${b}: ${why}`);
}
// Outside src/nets/, nothing tests a network's kind by name or class: the layers above ask its module.
const kindTest = /\bnet\s*[!=]==\s*["'`]|\.kind\s*[!=]==\s*["'`](?:mlp|rnn)\b|instanceof\s+(?:MLP|RNN)\b/;
for (const f of [...files(src).filter((f) => !relative(src, f).startsWith("nets/")), ...files(join(root, "web/src"))]) {
  readFileSync(f, "utf8").split("\n").forEach((l, i) => {
    if (kindTest.test(l)) { failed = true; console.error(`check-layers: ${relative(root, f)}:${i + 1} tests a network's kind by name; ask its module (src/nets/registry.ts)`); }
  });
}
const long = [join(root, "src"), join(root, "asm")].flatMap(files).flatMap((f) => readFileSync(f, "utf8").split("\n").map((l, i) => ({ f, i, n: [...l].length })).filter((x) => x.n > WIDTH));
if (long.length > LINE_BUDGET) {
  failed = true;
  console.error(`check-layers: ${long.length} lines over ${WIDTH} characters in src/ and asm/ (budget ${LINE_BUDGET}):`);
  for (const x of long) console.error(`  ${relative(root, x.f)}:${x.i + 1} (${x.n})`);
}
if (failed) process.exit(1);
console.log(`check-layers: no folder-level import cycle in src/ (${edges.size} folders with imports); no kind tested by name outside src/nets/; ${long.length} lines over ${WIDTH} characters (budget ${LINE_BUDGET})`);
