#!/usr/bin/python3
"""PyTorch implementation of neuroplastic's credit-assignment pathways and
Dale's law (src/signals/feedback.ts, src/learn/dale.ts), written the way
../shared/anchors/torch_reference.py is (online MLP, softplus beta = 10, no
biases, Xavier-uniform init, N-way K-shot MNIST tasks with fresh weights):

    e_L = p - onehot
    sym:         e_l = (e_{l+1} W_{l+1}) * s'(z_l)
    random:      e_l = (e_{l+1} B_{l+1}) * s'(z_l),  B fixed, drawn like W
    dfa:         e_l = (e_L D_l^T) * s'(z_l),  D_l (n_l x n_L) fixed, Xavier-uniform of that shape
    sign:        B = sign(W) * gain * sqrt(2 / (fan_in + fan_out)), from the current W
    sign-random: B = sign(W) * |R|, R fixed, drawn like W
    dW_l = -bp e_l^T y_{l-1} + oja y_l^T (y_{l-1} - y_l W_l)
    Dale (--dale f): hidden unit j of layer l is excitatory for j < round(f n_l), else
      inhibitory; W_{l+1}[:, j] = s_j |W| c_j at init (c = sqrt((1-f)/f) or sqrt(f/(1-f)));
      after every update w <- 0 where s_j w <= 0.

Usage:
  torch_credit.py --data DIR [--hidden 170,130,100,70] [--gain 1] [--bp 0.0068]
     [--oja 0.0053] [--feedback sym|random|dfa|sign|sign-random] [--dale F]
     [--tasks 20] [--way 5] [--shots 50] [--query 10] [--seed 1] [--threads 1]
Prints one JSON line.
"""
import argparse, json, struct, time
import numpy as np
import torch
import torch.nn.functional as F

BETA = 10.0


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(data_dir, split):
    pre = "t10k" if split == "test" else "train"
    x = read_idx(f"{data_dir}/{pre}-images-idx3-ubyte").reshape(-1, 784).astype(np.float32) / 255.0
    y = read_idx(f"{data_dir}/{pre}-labels-idx1-ubyte").astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


def sample_task(x, y, by_class, rng, way, shots, query, n_classes):
    classes = rng.choice(n_classes, way, replace=False)
    tr, qr = [], []
    for c in classes:
        idx = rng.choice(by_class[c], shots + query, replace=False)
        tr.append(idx[:shots]); qr.append(idx[shots:])
    tr = np.concatenate(tr); qr = np.concatenate(qr)
    rng.shuffle(tr)
    return x[tr], y[tr], x[qr], y[qr]


def xavier(fan_out, fan_in, gain, gen):
    a = gain * (6.0 / (fan_in + fan_out)) ** 0.5
    return (torch.rand(fan_out, fan_in, generator=gen) * 2 - 1) * a


def dale_signs(n, f):
    s = -torch.ones(n)
    s[: int(round(f * n))] = 1
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--hidden", default="170,130,100,70")
    ap.add_argument("--gain", type=float, default=1.0)
    ap.add_argument("--bp", type=float, default=0.0068)
    ap.add_argument("--oja", type=float, default=None)
    ap.add_argument("--feedback", default="sym", choices=["sym", "random", "dfa", "sign", "sign-random"])
    ap.add_argument("--dale", type=float, default=None)
    ap.add_argument("--tasks", type=int, default=20)
    ap.add_argument("--way", type=int, default=5)
    ap.add_argument("--shots", type=int, default=50)
    ap.add_argument("--query", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--split", default="test")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    x, y = load(a.data, a.split)
    n_out = 10
    by_class = [np.nonzero(y.numpy() == c)[0] for c in range(n_out)]
    rng = np.random.default_rng(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    dims = [784] + [int(h) for h in a.hidden.split(",") if h] + [n_out]
    L = len(dims) - 1
    scale = [a.gain * (2.0 / (dims[l] + dims[l + 1])) ** 0.5 for l in range(L)]
    signs = [None] + [dale_signs(dims[l], a.dale) for l in range(1, L)] if a.dale is not None else None
    if a.dale is not None and 0 < a.dale < 1:
        cE, cI = ((1 - a.dale) / a.dale) ** 0.5, (a.dale / (1 - a.dale)) ** 0.5
    else:
        cE = cI = 1.0

    accs, losses, wnorm, steps = [], [], [], 0
    t0 = time.perf_counter()
    with torch.no_grad():
        for _ in range(a.tasks):
            xt, yt, xq, yq = sample_task(x, y, by_class, rng, a.way, a.shots, a.query, n_out)
            ws = [xavier(dims[l + 1], dims[l], a.gain, gen) for l in range(L)]
            if signs is not None:  # ws[l] maps layer l to l+1: its columns are layer l's units
                for l in range(1, L):
                    s = signs[l]
                    ws[l] = ws[l].abs() * s * torch.where(s > 0, cE, cI)
            if a.feedback in ("random", "sign-random"):
                fixed = [xavier(dims[l + 1], dims[l], a.gain, gen) for l in range(L)]
            elif a.feedback == "dfa":
                fixed = [xavier(dims[l], n_out, a.gain, gen) for l in range(L)]  # D_l: n_l x n_L (D_0 unused here)
            for i in range(xt.shape[0]):
                ys = [xt[i:i + 1]]
                for w in ws[:-1]:
                    ys.append(F.softplus(ys[-1] @ w.T, beta=BETA))
                p = F.softmax(ys[-1] @ ws[-1].T, dim=1)
                e = p - F.one_hot(yt[i:i + 1], n_out).float()
                errs = [e]
                for l in range(L - 1, 0, -1):
                    dsig = 1 - torch.exp(-BETA * ys[l])
                    if a.feedback == "dfa":
                        g = e @ fixed[l].T
                    else:
                        back = {"sym": lambda: ws[l], "random": lambda: fixed[l],
                                "sign": lambda: torch.sign(ws[l]) * scale[l],
                                "sign-random": lambda: torch.sign(ws[l]) * fixed[l].abs()}[a.feedback]()
                        g = errs[0] @ back
                    errs.insert(0, g * dsig)
                acts = ys + [p]
                new = []
                for l, w in enumerate(ws):
                    upd = -a.bp * errs[l].T @ acts[l]
                    if a.oja is not None:
                        post = acts[l + 1]
                        upd = upd + a.oja * (post.T @ (acts[l] - post @ w))
                    nw = w + upd
                    if signs is not None and l >= 1:
                        nw = torch.where(signs[l] * nw > 0, nw, torch.zeros_like(nw))
                    new.append(nw)
                ws = new
                steps += 1
            wnorm.append(sum(float(w.norm()) for w in ws))
            h = xq
            for w in ws[:-1]:
                h = F.softplus(h @ w.T, beta=BETA)
            logits = h @ ws[-1].T
            if not torch.isfinite(logits).all():
                losses.append(float(np.log(a.way))); accs.append(1.0 / a.way)
                continue
            losses.append(F.cross_entropy(logits, yq).item())
            accs.append((logits.argmax(1) == yq).float().mean().item())
    dt = time.perf_counter() - t0
    n = len(accs)
    acc = float(np.mean(accs)); se = float(np.std(accs) / max(1, n) ** 0.5)
    print(json.dumps({"dims": dims, "feedback": a.feedback, "dale": a.dale, "bp": a.bp, "oja": a.oja, "tasks": n,
                      "acc": round(acc, 4), "acc_se": round(se, 4), "loss": round(float(np.mean(losses)), 4),
                      "seconds": round(dt, 3), "steps_per_s": round(steps / dt, 1),
                      "weight_norm_sum": round(float(np.mean(wnorm)), 3)}))


if __name__ == "__main__":
    main()
