#!/usr/bin/env python3
"""JAX speed reference for neuroplastic's rate RNN (PAPER.md "Recurrent
networks"; src/nets/rnn/rnn.ts), written as a performance-minded JAX user
would write it, for `npm run bench:jax`:

  h_0 = 0;  h_t = tanh(J h_{t-1} + U x_t),  t = 1 .. T = 28 + D
  z = W h_T;  p = softmax(z);  e = p - onehot
  BPTT: g_T = W^T e,  d_t = g_t * (1 - h_t^2),  g_{t-1} = J^T d_t
  dU = -th_bp sum_t d_t x_t^T + th_oja sum_t h_t (x_t - U^T h_t)^T
  dJ = -th_bp sum_t d_t h_{t-1}^T + th_oja sum_t h_t (h_{t-1} - J^T h_t)^T
  dW = -th_bp e h_T^T + th_oja p (h_T - W^T p)^T

one image per update (online), its rows as the inputs, D steps of zero input
after them. float32; one jit per task (dataset on the device, gather, Xavier
init, a lax.scan over the 250 sequences, each sequence a lax.scan forward and
a lax.scan backward, the query set scored inside the jit); the input
projection U x_t of all t as one matrix product before the recurrence; the
time sums as matrix products (D^T X, D^T H_prev, H^T (X - H U), ...) with Oja
factored (h h^T W never formed). Single thread as the MLP anchor
(../shared/anchors/jax_reference.py): XLA_FLAGS with the Eigen pool off and
taskset -c 0. Prints one JSON line (steps_per_s: sequences per second, end to
end, compilation apart in compile_s).
"""
import argparse, json, os, struct, time
import numpy as np
import jax, jax.numpy as jnp
from jax import lax


def read_idx(path):
    data = open(path, "rb").read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(d, split):
    pre = "t10k" if split == "test" else "train"
    x = read_idx(f"{d}/{pre}-images-idx3-ubyte").reshape(-1, 28, 28).astype(np.float32) / 255.0
    return x, read_idx(f"{d}/{pre}-labels-idx1-ubyte").astype(np.int32)


def sample(rng, by_class, n_classes, way, shots, query):
    cls = rng.choice(n_classes, way, replace=False)
    tr, qr = [], []
    for c in cls:
        idx = rng.choice(by_class[c], shots + query, replace=False)
        tr.append(idx[:shots]); qr.append(idx[shots:])
    tr = np.concatenate(tr); rng.shuffle(tr)
    return tr.astype(np.int32), np.concatenate(qr).astype(np.int32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--hidden", type=int, default=100)
    ap.add_argument("--delay", type=int, default=20)
    ap.add_argument("--bp", type=float, default=0.003)
    ap.add_argument("--oja", type=float, default=0.002)
    ap.add_argument("--tasks", type=int, default=10)
    ap.add_argument("--split", default="test")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--way", type=int, default=5)
    ap.add_argument("--shots", type=int, default=50)
    ap.add_argument("--query", type=int, default=10)
    a = ap.parse_args()

    X, Y = load(a.data, a.split)
    Xd, Yd = jnp.asarray(X), jnp.asarray(Y)
    N, C, nIn, D = a.hidden, 10, 28, a.delay
    T = 28 + D
    th = jnp.array([a.bp, a.oja], jnp.float32)
    bounds = [(6.0 / (i + o)) ** 0.5 for i, o in ((nIn, N), (N, N), (N, C))]

    def init(key):
        ku, kj, kw = jax.random.split(key, 3)
        return (jax.random.uniform(ku, (N, nIn), jnp.float32, -bounds[0], bounds[0]),
                jax.random.uniform(kj, (N, N), jnp.float32, -bounds[1], bounds[1]),
                jax.random.uniform(kw, (C, N), jnp.float32, -bounds[2], bounds[2]))

    def inputs(img):  # (28, 28) image rows, then D zero rows: (T, nIn)
        return jnp.concatenate([img, jnp.zeros((D, nIn), jnp.float32)], 0)

    def forward(U, J, xs):
        ax = xs @ U.T  # U x_t for every t: one (T, nIn) x (nIn, N) product
        def f(h, a_in):
            h = jnp.tanh(J @ h + a_in)
            return h, h
        _, H = lax.scan(f, jnp.zeros(N, jnp.float32), ax)
        return H  # (T, N): h_1 .. h_T

    def step(ws, xy):
        U, J, W = ws
        img, label = xy
        xs = inputs(img)
        H = forward(U, J, xs)
        hT = H[-1]
        p = jax.nn.softmax(W @ hT)
        e = p - jax.nn.one_hot(label, C, dtype=jnp.float32)
        def b(g, h):
            d = g * (1.0 - h * h)
            return J.T @ d, d
        _, Dl = lax.scan(b, W.T @ e, H, reverse=True)  # (T, N): d_1 .. d_T
        Hprev = jnp.concatenate([jnp.zeros((1, N), jnp.float32), H[:-1]], 0)
        dU = -th[0] * (Dl.T @ xs) + th[1] * (H.T @ (xs - H @ U))
        dJ = -th[0] * (Dl.T @ Hprev) + th[1] * (H.T @ (Hprev - H @ J))
        dW = -th[0] * jnp.outer(e, hT) + th[1] * jnp.outer(p, hT - W.T @ p)
        return (U + dU, J + dJ, W + dW), None

    def task(key, tr, qr):
        ws, _ = lax.scan(step, init(key), (Xd[tr], Yd[tr]))
        U, J, W = ws
        def score(img):
            return W @ forward(U, J, inputs(img))[-1]
        z = jax.vmap(score)(Xd[qr])
        lq = Yd[qr]
        loss = -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(z), lq[:, None], 1))
        acc = jnp.mean((jnp.argmax(z, 1) == lq).astype(jnp.float32))
        return loss, acc

    by_class = [np.nonzero(Y == c)[0] for c in range(C)]
    rng = np.random.default_rng(a.seed)
    key = jax.random.PRNGKey(a.seed)

    def draw():
        nonlocal key
        tr, qr = sample(rng, by_class, C, a.way, a.shots, a.query)
        key, k = jax.random.split(key)
        return k, jnp.asarray(tr), jnp.asarray(qr)

    t0 = time.perf_counter()
    fc = jax.jit(task).lower(*draw()).compile()
    compile_s = time.perf_counter() - t0
    rng = np.random.default_rng(a.seed); key = jax.random.PRNGKey(a.seed)
    outs = []
    t0 = time.perf_counter()
    for _ in range(a.tasks):
        outs.append(fc(*draw()))
    outs = jax.device_get(outs)
    dt = time.perf_counter() - t0
    accs = np.array([o[1] for o in outs])
    steps = a.way * a.shots
    print(json.dumps({"impl": "jax-rnn", "jax": jax.__version__, "hidden": N, "delay": D, "tasks": a.tasks,
                      "acc": round(float(accs.mean()), 4), "seconds": round(dt, 3),
                      "steps_per_s": round(a.tasks * steps / dt, 1), "compile_s": round(compile_s, 3),
                      "xla_flags": os.environ.get("XLA_FLAGS", "")}))


if __name__ == "__main__":
    main()
