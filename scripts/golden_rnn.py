#!/usr/bin/python3
"""Golden fixture for the RNN's exact meta-gradient: PyTorch autograd
(float64) through the unrolled online loop of the rate RNN of PAPER.md
("Recurrent networks (claim 7) — our specification"), on fixed weights and
data, for several configurations. test/golden.test.ts reads the fixture and
needs no Python.

    h_0 = 0;  h_t = (1 - a) h_{t-1} + a tanh(J h_{t-1} + U x_t),  t = 1..T
    z = W h_T;  p = softmax(z);  e = p - onehot
    g_T = B_W^T e;  delta_t = a g_t * (1 - tanh^2);  g_{t-1} = (1 - a) g_t + B_J^T delta_t
    (B = W, J for backprop through time; fixed random matrices for feedback alignment)
    dW = -bp e h_T^T + oja p (h_T - W^T p)^T + hebb p h_T^T + ehebb e delta_T^T
    dJ = sum_t [-bp delta_t h_{t-1}^T + oja h_t (h_{t-1} - J^T h_t)^T + hebb h_t h_{t-1}^T + ehebb delta_t eprev_t^T]
    dU = sum_t [-bp delta_t x_t^T     + oja h_t (x_t - U^T h_t)^T     + hebb h_t x_t^T     + ehebb delta_t (B_U^T delta_t)^T]
with eprev_1 = g_0 (the error reaching h_0) and eprev_t = delta_{t-1}, x_t = 0
past the image's rows, all from one pass, applied at the end of the sequence.

Run:  /usr/bin/python3 scripts/golden_rnn.py > test/fixtures/rnn_golden.json
(needs Debian's python3-torch).
"""
import json
import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
TERMS = ["bp", "oja", "hebb", "ehebb"]


def xavier(rs, n_out, n_in, gain):
    a = gain * (6.0 / (n_in + n_out)) ** 0.5
    return rs.uniform(-a, a, size=(n_out, n_in))


def coef(theta, term, site):
    v = theta.get(term)
    if v is None:
        return None
    return v[site] if v.dim() > 0 else v


def forward(U, J, W, xs, T, rows, alpha):
    N = J.shape[0]
    h = [torch.zeros(N)]
    r = [None]
    for t in range(1, T + 1):
        a = J @ h[-1]
        if t <= rows:
            a = a + U @ xs[t - 1]
        rt = torch.tanh(a)
        r.append(rt)
        h.append((1 - alpha) * h[-1] + alpha * rt)
    z = W @ h[T]
    return h, r, z


def episode(U, J, W, B, xt, yt, xq, yq, theta, n_out, T, rows, alpha, oja_output):
    nIn = U.shape[1]
    for i in range(xt.shape[0]):
        xs = xt[i]
        h, r, z = forward(U, J, W, xs, T, rows, alpha)
        p = F.softmax(z, dim=0)
        e = p - F.one_hot(yt[i], n_out).double()
        BU, BJ, BW = (U, J, W) if B is None else B
        g = BW.T @ e
        delta = [None] * (T + 1)
        for t in range(T, 0, -1):
            delta[t] = alpha * g * (1 - r[t] ** 2)
            g = (1 - alpha) * g + BJ.T @ delta[t]
        g0 = g
        x = lambda t: xs[t - 1] if t <= rows else torch.zeros(nIn)
        dU, dJ, dW = torch.zeros_like(U), torch.zeros_like(J), torch.zeros_like(W)
        for t in range(1, T + 1):
            eprev = g0 if t == 1 else delta[t - 1]
            c = coef(theta, "bp", 0)
            if c is not None: dU = dU - c * torch.outer(delta[t], x(t))
            c = coef(theta, "bp", 1)
            if c is not None: dJ = dJ - c * torch.outer(delta[t], h[t - 1])
            c = coef(theta, "oja", 0)
            if c is not None: dU = dU + c * torch.outer(h[t], x(t) - U.T @ h[t])
            c = coef(theta, "oja", 1)
            if c is not None: dJ = dJ + c * torch.outer(h[t], h[t - 1] - J.T @ h[t])
            c = coef(theta, "hebb", 0)
            if c is not None: dU = dU + c * torch.outer(h[t], x(t))
            c = coef(theta, "hebb", 1)
            if c is not None: dJ = dJ + c * torch.outer(h[t], h[t - 1])
            c = coef(theta, "ehebb", 0)
            if c is not None: dU = dU + c * torch.outer(delta[t], BU.T @ delta[t])
            c = coef(theta, "ehebb", 1)
            if c is not None: dJ = dJ + c * torch.outer(delta[t], eprev)
        c = coef(theta, "bp", 2)
        if c is not None: dW = dW - c * torch.outer(e, h[T])
        c = coef(theta, "oja", 2)
        if c is not None and oja_output: dW = dW + c * torch.outer(p, h[T] - W.T @ p)
        c = coef(theta, "hebb", 2)
        if c is not None: dW = dW + c * torch.outer(p, h[T])
        c = coef(theta, "ehebb", 2)
        if c is not None: dW = dW + c * torch.outer(e, delta[T])
        U, J, W = U + dU, J + dJ, W + dW
    loss, hits = 0.0, 0.0
    for i in range(xq.shape[0]):
        _, _, z = forward(U, J, W, xq[i], T, rows, alpha)
        loss = loss + F.cross_entropy(z[None], yq[i:i + 1])
        hits += float(z.argmax().item() == yq[i].item())
    return loss / xq.shape[0], hits / xq.shape[0]


def case(name, seed, nIn, rows, delay, N, n_out, gain, gain_rec, alpha, feedback, theta0, per_site, oja_output, n_train, n_query):
    rs = np.random.RandomState(seed)
    T = rows + delay
    U, J, W = xavier(rs, N, nIn, gain), xavier(rs, N, N, gain_rec), xavier(rs, n_out, N, gain)
    B = [xavier(rs, N, nIn, gain), xavier(rs, N, N, gain_rec), xavier(rs, n_out, N, gain)] if feedback == "random" else None
    pix_t = rs.randint(0, 256, size=(n_train, rows, nIn))
    pix_q = rs.randint(0, 256, size=(n_query, rows, nIn))
    lab_t = rs.randint(0, n_out, size=n_train)
    lab_q = rs.randint(0, n_out, size=n_query)
    theta = {k: torch.tensor([v] * 3 if per_site else v, requires_grad=True) for k, v in theta0.items()}
    loss, acc = episode(torch.tensor(U), torch.tensor(J), torch.tensor(W), None if B is None else [torch.tensor(b) for b in B],
                        torch.tensor(pix_t / 255.0), torch.tensor(lab_t), torch.tensor(pix_q / 255.0), torch.tensor(lab_q),
                        theta, n_out, T, rows, alpha, oja_output)
    loss.backward()
    return {
        "name": name, "nIn": nIn, "rows": rows, "delay": delay, "N": N, "nOut": n_out, "leak": alpha,
        "feedback": feedback, "perSite": per_site, "ojaOutput": oja_output, "theta": theta0,
        "U": U.ravel().tolist(), "J": J.ravel().tolist(), "W": W.ravel().tolist(),
        "B": None if B is None else [b.ravel().tolist() for b in B],
        "trainPixels": pix_t.ravel().tolist(), "trainLabels": lab_t.tolist(),
        "queryPixels": pix_q.ravel().tolist(), "queryLabels": lab_q.tolist(),
        "loss": loss.item(), "acc": acc,
        "grad": {k: (v.grad.tolist() if per_site else v.grad.item()) for k, v in theta.items()},
    }


cases = [
    case("BPTT, bp+oja shared, delay 3", 1, 5, 4, 3, 8, 4, 1.0, 1.0, 1.0, "sym", {"bp": 0.05, "oja": 0.03}, False, True, 20, 8),
    case("feedback alignment through time, bp+oja per site", 2, 5, 4, 3, 8, 4, 1.0, 1.0, 1.0, "random", {"bp": 0.05, "oja": 0.03}, True, True, 20, 8),
    case("BPTT, all four terms per site, leak 0.7, J gain 1.5", 3, 5, 4, 2, 8, 4, 1.0, 1.5, 0.7, "sym",
         {"bp": 0.04, "oja": 0.02, "hebb": 0.003, "ehebb": 0.02}, True, True, 16, 8),
    case("feedback alignment, all terms shared, leak 0.5, no Oja at the output", 4, 5, 4, 4, 8, 4, 1.2, 0.9, 0.5, "random",
         {"bp": 0.05, "oja": 0.02, "hebb": 0.002, "ehebb": 0.01}, False, False, 16, 8),
]
print(json.dumps({"generator": "scripts/golden_rnn.py", "torch": torch.__version__, "cases": cases}))
