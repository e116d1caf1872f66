#!/usr/bin/python3
"""Golden fixture for the exact meta-gradient: PyTorch autograd (float64)
through an unrolled online loop, on fixed weights and data, for several
configurations. The test (test/golden.test.ts) reads the fixture and needs
no Python.

Conventions follow PAPER.md and ../shared/anchors/torch_reference.py:
softplus beta = 10, dW = -bp e y_prev^T + oja (y y_prev^T - y y^T W)
+ hebb y y_prev^T + ehebb e e_prev^T, p as post activity at the output,
e_0 = B_1^T e_1 (the input is linear), all layers updated from one pass.

Run:  /usr/bin/python3 scripts/golden_meta.py > test/fixtures/meta_golden.json
(needs Debian's python3-torch).
"""
import json
import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
BETA = 10.0


def xavier(rs, n_out, n_in, gain):
    a = gain * (6.0 / (n_in + n_out)) ** 0.5
    return rs.uniform(-a, a, size=(n_out, n_in))


def coef(theta, term, l):
    v = theta.get(term)
    if v is None:
        return None
    return v[l] if v.dim() > 0 else v


def episode(ws, bs, xt, yt, xq, yq, theta, n_out, oja_output):
    L = len(ws)
    for i in range(xt.shape[0]):
        x = xt[i:i + 1]
        ys = [x]
        for w in ws[:-1]:
            ys.append(F.softplus(ys[-1] @ w.T, beta=BETA))
        logits = ys[-1] @ ws[-1].T
        p = F.softmax(logits, dim=1)
        e = p - F.one_hot(yt[i:i + 1], n_out).double()
        acts = ys + [p]
        errs = [e]
        for l in range(L - 1, -1, -1):
            back = ws[l] if bs is None else bs[l]
            g = errs[0] @ back
            errs.insert(0, g * (1 - torch.exp(-BETA * ys[l])) if l > 0 else g)
        new = []
        for l, w in enumerate(ws):
            pre, post, el, epre = acts[l], acts[l + 1], errs[l + 1], errs[l]
            upd = torch.zeros_like(w)
            c = coef(theta, "bp", l)
            if c is not None:
                upd = upd - c * el.T @ pre
            c = coef(theta, "oja", l)
            if c is not None and (oja_output or l < L - 1):
                upd = upd + c * (post.T @ pre - (post.T @ post) @ w)
            c = coef(theta, "hebb", l)
            if c is not None:
                upd = upd + c * post.T @ pre
            c = coef(theta, "ehebb", l)
            if c is not None:
                upd = upd + c * el.T @ epre
            new.append(w + upd)
        ws = new
    ys = xq
    for w in ws[:-1]:
        ys = F.softplus(ys @ w.T, beta=BETA)
    logits = ys @ ws[-1].T
    return F.cross_entropy(logits, yq), (logits.argmax(1) == yq).double().mean()


def case(name, seed, dims, gain, feedback, theta0, per_layer, oja_output, n_train, n_query):
    rs = np.random.RandomState(seed)
    L = len(dims) - 1
    n_out = dims[-1]
    ws = [xavier(rs, dims[l + 1], dims[l], gain) for l in range(L)]
    bs = [xavier(rs, dims[l + 1], dims[l], gain) for l in range(L)] if feedback == "random" else None
    pix_t = rs.randint(0, 256, size=(n_train, dims[0]))
    pix_q = rs.randint(0, 256, size=(n_query, dims[0]))
    lab_t = rs.randint(0, n_out, size=n_train)
    lab_q = rs.randint(0, n_out, size=n_query)
    theta = {k: torch.tensor([v] * L if per_layer else v, requires_grad=True) for k, v in theta0.items()}
    loss, acc = episode([torch.tensor(w) for w in ws], None if bs is None else [torch.tensor(b) for b in bs],
                        torch.tensor(pix_t / 255.0), torch.tensor(lab_t), torch.tensor(pix_q / 255.0), torch.tensor(lab_q),
                        theta, n_out, oja_output)
    loss.backward()
    return {
        "name": name, "dims": dims, "feedback": feedback, "perLayer": per_layer, "ojaOutput": oja_output,
        "theta": theta0, "W": [w.ravel().tolist() for w in ws], "B": None if bs is None else [b.ravel().tolist() for b in bs],
        "trainPixels": pix_t.ravel().tolist(), "trainLabels": lab_t.tolist(),
        "queryPixels": pix_q.ravel().tolist(), "queryLabels": lab_q.tolist(),
        "loss": loss.item(), "acc": acc.item(),
        "grad": {k: (v.grad.tolist() if per_layer else v.grad.item()) for k, v in theta.items()},
    }


cases = [
    case("backprop, bp+oja shared", 1, [30, 16, 12, 5], 1.0, "sym", {"bp": 0.05, "oja": 0.03}, False, True, 40, 15),
    case("feedback alignment, bp+oja shared", 2, [30, 16, 12, 5], 1.0, "random", {"bp": 0.05, "oja": 0.03}, False, True, 40, 15),
    case("backprop, all four terms per layer, gain 3", 3, [30, 16, 12, 5], 3.0, "sym",
         {"bp": 0.02, "oja": 0.01, "hebb": 0.002, "ehebb": 0.01}, True, True, 30, 10),
    case("feedback alignment, bp+oja, no Oja at the output, deep", 4, [30, 12, 12, 12, 12, 12, 5], 1.0, "random",
         {"bp": 0.05, "oja": 0.02}, True, False, 30, 10),
]
print(json.dumps({"generator": "scripts/golden_meta.py", "torch": torch.__version__, "cases": cases}))
