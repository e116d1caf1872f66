import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

// docs/authors-parity.json is scripts/authors-parity.py's output (a run of hours with the authors' PyTorch code);
// these checks hold the committed file, the page that reports it, and the script's parsers to each other.
const root = new URL("..", import.meta.url).pathname;
const json = JSON.parse(readFileSync(`${root}docs/authors-parity.json`, "utf8"));
const md = readFileSync(`${root}docs/parity.md`, "utf8");
const section = md.slice(md.indexOf("## The authors' own code"));
const f4 = (x: number) => x.toFixed(4);
const python = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
const havePython = spawnSync(python, ["-c", "pass"]).status === 0;

test("authors' parity: every fixed-θ verdict follows from its numbers (|Δ| ≤ 3 combined se), and the page prints them", () => {
  assert.ok(md.includes("## The authors' own code"), "docs/parity.md has the section");
  assert.equal(json.fixed_theta.length, 2);
  for (const r of json.fixed_theta) {
    const z = Math.abs(r.ours.acc - r.authors.acc) / Math.hypot(r.ours.acc_se, r.authors.acc_se);
    assert.ok(Math.abs(z - r.z) < 1e-12, `${r.rule}: z ${r.z} recomputes to ${z}`);
    assert.equal(r.agree, z <= 3);
    assert.ok(Math.abs(r.diff - (r.ours.acc - r.authors.acc)) < 1e-12);
    assert.ok(r.authors.n > 0 && r.ours.n > 0 && r.authors.acc_se > 0 && r.ours.acc_se > 0);
    for (const s of [r.authors, r.ours]) assert.ok(section.includes(`${f4(s.acc)} ± ${f4(s.acc_se)} (${s.n} tasks)`), `${r.rule}: ${f4(s.acc)} on the page`);
  }
});

test("authors' parity: the θ trajectories start at the published (1e-3, 0) and the learned θ are on the page", () => {
  const t = json.meta.trajectory;
  assert.deepEqual([t[0].steps, t[0].authors, t[0].ours], [0, { bp: 0.001, oja: 0 }, { bp: 0.001, oja: 0 }]);
  for (let i = 1; i < t.length; i++) assert.ok(t[i].steps > t[i - 1].steps);
  for (const side of [json.meta.authors, json.meta.ours]) {
    const th = side.learned_theta;
    assert.ok(section.includes(`(${th.bp.toFixed(5)}, ${th.oja.toFixed(5)})`));
    assert.ok(th.bp > 0 && Number.isFinite(th.oja));
  }
});

test("authors' parity: the gradient-bias summary is consistent with its per-task ratios, and gradcheck's B-tracked gradient is the FD one", () => {
  for (const p of json.gradbias.points) {
    for (const k of ["bp", "oja"]) {
      const r = p[k];
      assert.equal(r.ratio_per_task.length, p.tasks);
      assert.ok(Math.abs(r.ratio_of_means - r.authors / r.exact) < 1e-12);
      assert.ok(r.diff_positive_tasks + r.diff_negative_tasks <= p.tasks);
      assert.ok(Math.abs(r.diff - (r.authors - r.exact)) < 1e-9 * Math.max(1, Math.abs(r.exact)), "mean of differences = difference of means");
    }
  }
  for (const r of json.gradcheck.rows) {
    for (const k of ["bp", "oja"]) {
      // the printed precision is 3 decimals: the tracked gradient is within that of the finite differences
      assert.ok(Math.abs(r.tracked[k] - r.fd[k]) <= 1e-3 * Math.max(1, Math.abs(r.fd[k])), `task ${r.task} θ_${k}: tracked ${r.tracked[k]} vs fd ${r.fd[k]}`);
    }
  }
  for (const r of json.ours_fdcheck.rows) for (const k of ["bp", "oja"]) assert.ok(r.rel_err[k] < 1e-5, `neuroplastic exact vs fd, task ${r.task} θ_${k}`);
});

test("authors-parity.py: its parsers read the authors' log lines and gradcheck's output; a bad work tree is a one-line error", { skip: !havePython }, () => {
  const code = [
    "import importlib.util, json, sys, tempfile",
    "spec = importlib.util.spec_from_file_location('ap', sys.argv[1]); ap = importlib.util.module_from_spec(spec); spec.loader.exec_module(ap)",
    "f = tempfile.NamedTemporaryFile('w', suffix='.log', delete=False)",
    "f.write('12.500 Train Episode: 1\\tLoss: 2.255554\\tAccuracy: 0.120\\tMetaParam_1: 0.001000\\tMetaParam_2: 0.000000\\tMetaParam_3: 0.000000" +
      "\\tMetaParam_4: 0.000000\\tMetaParam_5: 0.000000\\nnoise\\n15.750 Train Episode: 2\\tLoss: 1.221768\\tAccuracy: 0.640\\tMetaParam_1: 0.002000" +
      "\\tMetaParam_2: 0.000000\\tMetaParam_3: 0.001000\\tMetaParam_4: 0.000000\\tMetaParam_5: 0.000000\\n'); f.close()",
    "rows = ap.authors_episodes(f.name)",
    "gc = ap.gradcheck_rows('task 2 classes [3, 1, 4, 0, 2] theta (0.0068, 0.0053): loss 0.928791  authors grad (85.120, 16.002)  " +
      "B-tracked grad (93.112, 17.095)  finite diff (93.112, 17.095)')",
    "print(json.dumps({'rows': rows, 'run': ap.authors_run(rows), 'gc': gc}))",
  ].join("\n");
  const r = spawnSync(python, ["-c", code, `${root}scripts/authors-parity.py`], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const o = JSON.parse(r.stdout);
  assert.deepEqual(o.rows.map((x: { episode: number; theta: number[] }) => [x.episode, x.theta[0], x.theta[2]]), [[1, 0.001, 0], [2, 0.002, 0.001]]);
  assert.ok(Math.abs(o.run.acc - 0.38) < 1e-12 && Math.abs(o.run.seconds_per_episode_median - 3.25) < 1e-12);
  assert.deepEqual(o.gc, [{ task: 2, classes: [3, 1, 4, 0, 2], theta: { bp: 0.0068, oja: 0.0053 }, loss: 0.928791,
    authors: { bp: 85.12, oja: 16.002 }, tracked: { bp: 93.112, oja: 17.095 }, fd: { bp: 93.112, oja: 17.095 } }]);
  const bad = spawnSync(python, [`${root}scripts/authors-parity.py`, "/nonexistent-authors-tree", "--out", "/tmp/np-authors-parity-test"], { encoding: "utf8" });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr.trim(), /^authors-parity: \/nonexistent-authors-tree is not a work tree of MetaLearning-Plasticity v1\.0 \(no main\.py\)$/);
});
