"""Rescore a task saved by `neuroplastic train --save-weights` with NumPy alone.

    python3 scripts/check_export.py DIR/rule1/task0/task.json IMAGES_IDX[.gz]

Reads the sidecar and the .npy files, rebuilds the forward pass the sidecar
describes, runs it on the task's query examples (IMAGES_IDX: the dataset
split's image file), and prints {"acc": ..., "loss": ..., "reported": ...}
as JSON. Used by test/export.test.ts; also an example of loading the export
(with PyTorch: torch.from_numpy(np.load(...))).
"""
import gzip
import json
import os
import sys

import numpy as np


def read_idx_images(path):
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    assert raw[0] == 0 and raw[1] == 0 and raw[2] == 0x08 and raw[3] == 3, "IDX u8 images of rank 3"
    n, r, c = (int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(3))
    return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, r, c)


def sigma(name, beta, z):
    if name == "softplus":
        return np.logaddexp(0, beta * z) / beta  # log(1 + exp(beta z)) / beta, without overflow
    if name == "relu":
        return np.maximum(z, 0)
    if name == "tanh":
        return np.tanh(z)
    return z


def logits_mlp(meta, arr, x):
    L = len(meta["dims"]) - 1
    y = x
    for l in range(1, L + 1):
        z = arr["W%d" % l] @ y
        if meta["bias"]:
            z = z + arr["b%d" % l]
        if l < L:
            if meta["norm"] == "layer":
                z = (z - z.mean()) / np.sqrt(z.var() + 1e-5)
            elif meta["norm"] == "batch":
                z = (z - arr["bn_mean%d" % l]) / np.sqrt(arr["bn_var%d" % l] + 1e-5)
            y = sigma(meta["activation"], meta["beta"], z)
    return z


def logits_rnn(meta, arr, x):
    rows, T, leak = meta["rows"], meta["T"], meta["leak"]
    U, J, W = arr["U"], arr["J"], arr["W"]
    xs = x.reshape(rows, -1)
    h = np.zeros(meta["N"], dtype=x.dtype)
    for t in range(1, T + 1):
        a = J @ h + (U @ xs[t - 1] if t <= rows else 0)
        h = (1 - leak) * h + leak * np.tanh(a)
    return W @ h


def main():
    sidecar, images = sys.argv[1], sys.argv[2]
    meta = json.load(open(sidecar))
    here = os.path.dirname(sidecar)
    arr = {f["name"]: np.load(os.path.join(here, f["file"])) for f in meta["files"]}
    imgs = read_idx_images(images)
    if meta["dataset"]["transposed"]:
        imgs = imgs.transpose(0, 2, 1)
    imgs = imgs.reshape(len(imgs), -1)
    hits, loss = 0, 0.0
    for i, label in zip(meta["queryIdx"], meta["queryLabels"]):
        x = imgs[i].astype(np.float32) / np.float32(255)
        z = (logits_rnn if meta["net"] == "rnn" else logits_mlp)(meta, arr, x).astype(np.float64)
        hits += int(np.argmax(z) == label)
        m = z.max()
        loss += m + np.log(np.exp(z - m).sum()) - z[label]
    n = len(meta["queryIdx"])
    print(json.dumps({"acc": hits / n, "loss": loss / n, "reported": meta["scores"]}))


main()
