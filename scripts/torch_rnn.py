#!/usr/bin/python3
"""PyTorch implementation of neuroplastic's recurrent-network convention
(PAPER.md, "Recurrent networks (claim 7) — our specification"), written the
way ../shared/anchors/torch_reference.py is: an anchor for speed and accuracy,
in the framework most users would reach for.

    h_0 = 0;  h_t = (1 - a) h_{t-1} + a tanh(J h_{t-1} + U x_t),  t = 1..T
    z = W h_T;  p = softmax(z);  e = p - onehot
    BPTT: g_T = W^T e;  delta_t = a g_t * (1 - tanh^2);  g_{t-1} = (1 - a) g_t + J^T delta_t
    (feedback alignment: fixed random B_W, B_J in place of W, J)
    dW = -bp e h_T^T + oja p (h_T - W^T p)^T
    dJ = sum_t -bp delta_t h_{t-1}^T + oja h_t (h_{t-1} - J^T h_t)^T
    dU = sum_t -bp delta_t x_t^T + oja h_t (x_t - U^T h_t)^T

Each MNIST image is presented as its 28 rows (pixels / 255), then D steps
of zero input; one sequence per update; N-way K-shot tasks with fresh weights
(Xavier-uniform). Sums over t are formed as matrix products of the stacked
time steps (one op each), which is how a performance-minded PyTorch user
writes them. Meta mode differentiates the query cross-entropy through the
whole unrolled online loop with autograd and takes an Adam step on theta.

Usage:
  torch_rnn.py --data DIR [--mode online|meta] [--hidden 100] [--delay 20]
     [--bp 0.01] [--oja 0.005] [--tasks 5] [--way 5] [--shots 50] [--query 10]
     [--gain 1] [--gain-rec 1] [--leak 1] [--feedback sym|random] [--seed 1]
     [--threads 1] [--meta-lr 1e-3] [--split test]
Prints one JSON line (steps_per_s counts sequences).
"""
import argparse, json, math, struct, time
import numpy as np
import torch
import torch.nn.functional as F


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(data_dir, split):
    pre = "t10k" if split == "test" else "train"
    x = read_idx(f"{data_dir}/{pre}-images-idx3-ubyte").astype(np.float32) / 255.0
    y = read_idx(f"{data_dir}/{pre}-labels-idx1-ubyte").astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


def xavier(n_out, n_in, gain, gen):
    a = gain * (6.0 / (n_in + n_out)) ** 0.5
    return (torch.rand(n_out, n_in, generator=gen) * 2 - 1) * a


def run(U, J, W, xs, T, alpha):
    """Hidden states h_0..h_T (T+1, N), tanh outputs r_1..r_T (T, N), logits."""
    N, rows = J.shape[0], xs.shape[0]
    inp = xs @ U.T  # (rows, N): U x_t for every row at once
    h, hs, rs = torch.zeros(N), [torch.zeros(N)], []
    for t in range(T):
        a = J @ h
        if t < rows:
            a = a + inp[t]
        r = torch.tanh(a)
        h = (1 - alpha) * h + alpha * r if alpha != 1 else r
        hs.append(h); rs.append(r)
    return torch.stack(hs), torch.stack(rs), W @ h


def online_step(U, J, W, B, xs, label, T, alpha, bp, oja, n_out):
    H, R, z = run(U, J, W, xs, T, alpha)
    p = F.softmax(z, dim=0)
    e = p - F.one_hot(label, n_out).to(p.dtype)
    BJ, BW = (J, W) if B is None else B
    g = BW.T @ e
    deltas = []
    for t in range(T - 1, -1, -1):
        d = alpha * g * (1 - R[t] ** 2)
        deltas.append(d)
        g = (1 - alpha) * g + BJ.T @ d
    D = torch.stack(deltas[::-1])              # (T, N): delta_1..delta_T
    X = torch.zeros(T, U.shape[1]); X[:xs.shape[0]] = xs
    Hprev, Hpost = H[:-1], H[1:]
    dU = -bp * D.T @ X
    dJ = -bp * D.T @ Hprev
    dW = -bp * torch.outer(e, H[-1])
    if oja is not None:
        dU = dU + oja * Hpost.T @ (X - Hpost @ U)
        dJ = dJ + oja * Hpost.T @ (Hprev - Hpost @ J)
        dW = dW + oja * torch.outer(p, H[-1] - W.T @ p)
    return U + dU, J + dJ, W + dW


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--mode", default="online", choices=["online", "meta"])
    ap.add_argument("--hidden", type=int, default=100)
    ap.add_argument("--delay", type=int, default=20)
    ap.add_argument("--bp", type=float, default=0.01)
    ap.add_argument("--oja", type=float, default=None)
    ap.add_argument("--tasks", type=int, default=5)
    ap.add_argument("--way", type=int, default=5)
    ap.add_argument("--shots", type=int, default=50)
    ap.add_argument("--query", type=int, default=10)
    ap.add_argument("--gain", type=float, default=1.0)
    ap.add_argument("--gain-rec", type=float, default=None)
    ap.add_argument("--leak", type=float, default=1.0)
    ap.add_argument("--feedback", default="sym", choices=["sym", "random"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--meta-lr", type=float, default=1e-3)
    ap.add_argument("--split", default="test")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    gain_rec = a.gain if a.gain_rec is None else a.gain_rec
    x, y = load(a.data, a.split)
    n_out, rows, n_in, N = 10, x.shape[1], x.shape[2], a.hidden
    T = rows + a.delay
    by_class = [np.nonzero(y.numpy() == c)[0] for c in range(n_out)]
    rng = np.random.default_rng(a.seed)
    gen = torch.Generator().manual_seed(a.seed)

    def task():
        classes = rng.choice(n_out, a.way, replace=False)
        tr, qr = [], []
        for c in classes:
            idx = rng.choice(by_class[c], a.shots + a.query, replace=False)
            tr.append(idx[:a.shots]); qr.append(idx[a.shots:])
        tr = np.concatenate(tr); qr = np.concatenate(qr)
        rng.shuffle(tr)
        return x[tr], y[tr], x[qr], y[qr]

    def fresh():
        ws = [xavier(N, n_in, a.gain, gen), xavier(N, N, gain_rec, gen), xavier(n_out, N, a.gain, gen)]
        B = [xavier(N, N, gain_rec, gen), xavier(n_out, N, a.gain, gen)] if a.feedback == "random" else None
        return ws, B

    def query_loss(U, J, W, xq, yq):
        zs = torch.stack([run(U, J, W, xq[i], T, a.leak)[2] for i in range(xq.shape[0])])
        return F.cross_entropy(zs, yq), (zs.argmax(1) == yq).float().mean().item()

    accs, losses, seqs = [], [], 0
    t0 = time.perf_counter()
    if a.mode == "online":
        with torch.no_grad():
            for _ in range(a.tasks):
                xt, yt, xq, yq = task()
                (U, J, W), B = fresh()
                for i in range(xt.shape[0]):
                    U, J, W = online_step(U, J, W, B, xt[i], yt[i], T, a.leak, a.bp, a.oja, n_out)
                loss, acc = query_loss(U, J, W, xq, yq)
                losses.append(loss.item()); accs.append(acc); seqs += xt.shape[0]
        out = {"bp": a.bp, "oja": a.oja}
    else:
        th = [torch.tensor(a.bp, requires_grad=True), torch.tensor(a.oja if a.oja is not None else 0.0, requires_grad=True)]
        opt = torch.optim.Adam(th, lr=a.meta_lr)
        for _ in range(a.tasks):
            xt, yt, xq, yq = task()
            (U, J, W), B = fresh()
            for i in range(xt.shape[0]):
                U, J, W = online_step(U, J, W, B, xt[i], yt[i], T, a.leak, th[0], th[1] if a.oja is not None else None, n_out)
            loss, acc = query_loss(U, J, W, xq, yq)
            opt.zero_grad(); loss.backward(); opt.step()
            losses.append(loss.item()); accs.append(acc); seqs += xt.shape[0]
        out = {"bp": th[0].item(), "oja": th[1].item() if a.oja is not None else None}
    dt = time.perf_counter() - t0
    n = len(accs)
    out.update({"mode": a.mode, "N": N, "delay": a.delay, "seq_len": T, "leak": a.leak, "feedback": a.feedback, "tasks": n,
                "acc": round(float(np.mean(accs)), 4), "acc_se": round(float(np.std(accs) / max(1, n) ** 0.5), 4),
                "loss": round(float(np.mean(losses)), 4), "seconds": round(dt, 3),
                "steps_per_s": round(seqs / dt, 1), "tasks_per_s": round(n / dt, 4), "threads": a.threads})
    # A diverged θ (NaN) is written as null: JSON has no NaN, and the bench's reader (JSON.parse) rejects Python's token.
    print(json.dumps({k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in out.items()}))


if __name__ == "__main__":
    main()
