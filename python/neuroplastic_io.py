"""Read neuroplastic's results into NumPy arrays and dicts (NumPy only).

    import sys; sys.path.insert(0, "python")      # from a checkout of neuroplastic
    import neuroplastic_io as nio

    run = nio.load_train("runs/x.json")            # train --out: summary + per-task arrays per rule
    ex = nio.load_exports("runs/w")                # train --save-weights (npy, npz or safetensors)
    net = ex[1][0]                                 # rule 1, task 0: {"arrays": {...}, "sidecar": {...}}
    nio.rescore(net, nio.read_idx_images(images))  # rebuilds the forward pass: {"acc", "loss", "reported"}
    meta = nio.load_meta("runs/meta")              # meta --out: meta.jsonl as arrays, the learned theta
    tb = nio.read_tensorboard("runs/tb")           # --tensorboard: {run: {tag: {"step", "value", "wall_time"}}}

Every reader takes the paths the CLI writes and nothing else; see the
README's "From Python". As a script:

    python3 python/neuroplastic_io.py rescore EXPORT IMAGES_IDX[.gz]   # JSON {"acc", "loss", "reported"}
    python3 python/neuroplastic_io.py tensorboard LOGDIR               # JSON {run: {tag: [[step, value], ...]}}

EXPORT is a task.json (npy format), a task<t>.npz or a task<t>.safetensors.
The tests require the rescored accuracy to equal the one the tool reported.
"""
import csv
import gzip
import json
import os
import struct
import sys

import numpy as np

__all__ = [
    "read_idx_images", "read_idx_labels", "read_safetensors", "load_export", "load_exports",
    "logits", "rescore", "load_train", "load_meta", "load_theta", "load_reproduce", "load_run", "read_tensorboard",
]


# --- datasets -----------------------------------------------------------------

def _idx(path):
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    assert raw[0] == 0 and raw[1] == 0 and raw[2] == 0x08, "IDX file of unsigned bytes"
    rank = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(rank))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank).reshape(shape)


def read_idx_images(path):
    """An IDX image file (raw or gzipped) as a uint8 array (n, rows, cols)."""
    a = _idx(path)
    assert a.ndim == 3, "IDX images of rank 3"
    return a


def read_idx_labels(path):
    """An IDX label file (raw or gzipped) as a uint8 array (n,)."""
    a = _idx(path)
    assert a.ndim == 1, "IDX labels of rank 1"
    return a


# --- exported networks --------------------------------------------------------

_ST_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?"}


def read_safetensors(path):
    """A .safetensors file as ({name: array}, metadata), by its specification:
    u64 little-endian header size N, N bytes of JSON {name: {dtype, shape,
    data_offsets}, "__metadata__": {str: str}}, then the tensors' bytes."""
    raw = open(path, "rb").read()
    (n,) = struct.unpack_from("<Q", raw, 0)
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    base = 8 + n
    arrays = {}
    for name, t in header.items():
        begin, end = t["data_offsets"]
        arrays[name] = np.frombuffer(raw[base + begin:base + end], dtype=np.dtype(_ST_DTYPES[t["dtype"]])).reshape(t["shape"])
    return arrays, meta


def load_export(path):
    """One trained network from `train --save-weights`: {"arrays": {name: array}, "sidecar": dict}.

    path: DIR/rule<i>/task<t>/task.json (or that directory) for --format npy,
    DIR/rule<i>/task<t>.npz, or DIR/rule<i>/task<t>.safetensors. The sidecar
    holds the network's shape and forward pass, theta, the configuration, the
    task's example indices and labels, and the scores the tool reported."""
    if os.path.isdir(path):
        path = os.path.join(path, "task.json")
    if path.endswith(".npz"):
        with np.load(path) as z:
            arrays = {k: z[k] for k in z.files if k != "sidecar"}
            sidecar = json.loads(str(z["sidecar"]))
    elif path.endswith(".safetensors"):
        arrays, meta = read_safetensors(path)
        sidecar = json.loads(meta["sidecar"])
    else:
        sidecar = json.load(open(path))
        here = os.path.dirname(path)
        arrays = {f["name"]: np.load(os.path.join(here, f["file"])) for f in sidecar["files"]}
    return {"arrays": arrays, "sidecar": sidecar}


def load_exports(directory):
    """Every network under a --save-weights DIR, whatever the format: {rule index: {task: export}}."""
    out = {}
    for rd in sorted(os.listdir(directory)):
        if not (rd.startswith("rule") and rd[4:].isdigit()):
            continue
        tasks = {}
        for entry in os.listdir(os.path.join(directory, rd)):
            stem, ext = os.path.splitext(entry)
            p = os.path.join(directory, rd, entry)
            if stem.startswith("task") and stem[4:].isdigit() and (ext in (".npz", ".safetensors") or os.path.exists(os.path.join(p, "task.json"))):
                tasks[int(stem[4:])] = load_export(p)
        out[int(rd[4:])] = dict(sorted(tasks.items()))
    return out


def _sigma(name, beta, z):
    if name == "softplus":
        return np.logaddexp(0, beta * z) / beta  # log(1 + exp(beta z)) / beta, without overflow
    if name == "relu":
        return np.maximum(z, 0)
    if name == "tanh":
        return np.tanh(z)
    return z


def _logits_mlp(meta, arr, x):
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
            y = _sigma(meta["activation"], meta["beta"], z)
    return z


def _logits_rnn(meta, arr, x):
    rows, T, leak = meta["rows"], meta["T"], meta["leak"]
    U, J, W = arr["U"], arr["J"], arr["W"]
    xs = x.reshape(rows, -1)
    h = np.zeros(meta["N"], dtype=x.dtype)
    for t in range(1, T + 1):
        a = J @ h + (U @ xs[t - 1] if t <= rows else 0)
        h = (1 - leak) * h + leak * np.tanh(a)
    return W @ h


def logits(export, x):
    """The network's logits for one input x (float32 pixels / 255, flattened), by the forward pass its sidecar describes."""
    meta = export["sidecar"]
    return (_logits_rnn if meta["net"] == "rnn" else _logits_mlp)(meta, export["arrays"], x)


def task_inputs(export, images):
    """The images as the tool fed them: transposed when the dataset was (EMNIST), flattened, float32 / 255."""
    imgs = images.transpose(0, 2, 1) if export["sidecar"]["dataset"]["transposed"] else images
    return imgs.reshape(len(imgs), -1).astype(np.float32) / np.float32(255)


def rescore(export, images):
    """Query accuracy and mean cross-entropy of a saved network on its task's query examples.

    images: the dataset split's images (read_idx_images of the split the
    sidecar names). Returns {"acc", "loss", "reported"} (reported: the tool's scores)."""
    meta = export["sidecar"]
    xs = task_inputs(export, images)
    hits, loss = 0, 0.0
    for i, label in zip(meta["queryIdx"], meta["queryLabels"]):
        z = logits(export, xs[i]).astype(np.float64)
        hits += int(np.argmax(z) == label)
        m = z.max()
        loss += m + np.log(np.exp(z - m).sum()) - z[label]
    n = len(meta["queryIdx"])
    return {"acc": hits / n, "loss": loss / n, "reported": meta["scores"]}


# --- runs ---------------------------------------------------------------------

def _columns(rows, skip=()):
    """A list of flat dicts as {field: array} (numbers and booleans; other fields as lists)."""
    out = {}
    for k in rows[0].keys() if rows else []:
        if k in skip:
            continue
        vals = [r.get(k) for r in rows]
        out[k] = np.array(vals, dtype=float) if all(isinstance(v, (int, float, bool)) and v is not None for v in vals) else vals
    return out


def load_train(path):
    """`train --out FILE`: {"summary": FILE's JSON (absent while the run is going), "header": the
    stream's configurations and rules, "tasks": {rule: {task, acc, loss, diverged, steps, weightNorm: array}}}.

    Reads FILE.tasks.jsonl, the stream written as tasks finish, so a run
    still going (or killed) reads too; a partial last line is ignored."""
    stream = (path[:-5] if path.lower().endswith(".json") else path) + ".tasks.jsonl"
    lines = open(stream).read().split("\n")
    header = json.loads(lines[0])
    per_rule = {}
    for l in lines[1:]:
        try:
            r = json.loads(l)
        except ValueError:
            continue
        per_rule.setdefault(r["rule"], []).append(r)
    tasks = {rule: _columns(rs, skip=("rule", "curve", "diagnostics")) for rule, rs in per_rule.items()}
    summary = json.load(open(path)) if os.path.exists(path) else None
    return {"summary": summary, "header": header, "tasks": tasks}


def _theta_entries(spec):
    """A theta spec ({"bp": 0.001, "oja": [a, b, c]}) as flat (name, value) pairs: per-layer values as name@layer."""
    for k, v in spec.items():
        if isinstance(v, list):
            for l, x in enumerate(v, 1):
                yield "%s@%d" % (k, l), x
        else:
            yield k, v


def load_theta(directory):
    """The learned theta of a `meta --out DIR`, whatever --format wrote it: (names, float32 vector, sidecar)."""
    p = os.path.join(directory, "theta")
    if os.path.exists(p + ".npz"):
        with np.load(p + ".npz") as z:
            theta, side = z["theta"], json.loads(str(z["sidecar"]))
    elif os.path.exists(p + ".safetensors"):
        arrays, meta = read_safetensors(p + ".safetensors")
        theta, side = arrays["theta"], json.loads(meta["sidecar"])
    else:
        theta, side = np.load(p + ".npy"), json.load(open(p + ".npy.json"))
    return side["names"], theta, side


def load_meta(directory):
    """`meta --out DIR`: {"episode", "loss", "acc", "skipped": arrays over episodes, "grad": (episodes, P),
    "theta": {coefficient: array over episodes} (theta after each episode's step), "wExact" (robust loop),
    "learned": (names, vector, sidecar) or None while running, "summary", "rule": theta.json or None}.

    meta.jsonl is read as it stands, so a run still going reads too."""
    rows = []
    for l in open(os.path.join(directory, "meta.jsonl")):
        try:
            rows.append(json.loads(l))
        except ValueError:
            pass
    out = {k: np.array([r[k] for r in rows], dtype=float) for k in ("episode", "loss", "acc")}
    out["skipped"] = np.array([r["skipped"] for r in rows], dtype=bool)
    out["grad"] = np.array([r["grad"] for r in rows], dtype=float)
    if rows and "wExact" in rows[0]:
        out["wExact"] = np.array([r.get("wExact") for r in rows], dtype=float)
    names = [n for n, _ in _theta_entries(rows[0]["theta"])] if rows else []
    out["theta"] = {n: np.array([dict(_theta_entries(r["theta"]))[n] for r in rows], dtype=float) for n in names}
    done = os.path.exists(os.path.join(directory, "summary.json"))
    out["learned"] = load_theta(directory) if done else None
    out["summary"] = json.load(open(os.path.join(directory, "summary.json"))) if done else None
    rule = os.path.join(directory, "theta.json")
    out["rule"] = json.load(open(rule)) if os.path.exists(rule) else None
    return out


def load_reproduce(directory):
    """`reproduce --out DIR`: {"results": results.json, "csv": {column: array or list} of results.csv}
    (pandas users: pd.read_csv(DIR + "/results.csv"))."""
    rows = list(csv.DictReader(open(os.path.join(directory, "results.csv"), newline="")))
    cols = {}
    for k in rows[0].keys() if rows else []:
        vals = [r[k] for r in rows]
        try:
            cols[k] = np.array([float(v) if v != "" else np.nan for v in vals])
        except ValueError:
            cols[k] = vals
    return {"results": json.load(open(os.path.join(directory, "results.json"))), "csv": cols}


def load_run(path):
    """Whatever the CLI wrote at path: a train --out FILE, a meta --out DIR, a reproduce --out DIR,
    a --save-weights DIR, one exported network, or a --tensorboard DIR."""
    if os.path.isfile(path):
        if path.endswith((".npz", ".safetensors")) or os.path.basename(path) == "task.json":
            return load_export(path)
        return load_train(path)
    names = os.listdir(path)
    if "meta.jsonl" in names:
        return load_meta(path)
    if "results.csv" in names:
        return load_reproduce(path)
    if "task.json" in names:
        return load_export(path)
    if any(n.startswith("rule") and n[4:].isdigit() for n in names):
        return load_exports(path)
    return read_tensorboard(path)


# --- TensorBoard --------------------------------------------------------------

def _crc32c_table():
    t = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (0x82F63B78 ^ (c >> 1)) if c & 1 else c >> 1
        t.append(c)
    return t


_CRC = _crc32c_table()


def _masked_crc(b):
    c = 0xFFFFFFFF
    for x in b:
        c = _CRC[(c ^ x) & 0xFF] ^ (c >> 8)
    c ^= 0xFFFFFFFF
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _records(raw):
    """TFRecord framing: u64 length, masked CRC-32C of it, data, masked CRC-32C of the data. A partial tail ends the list."""
    o = 0
    while o + 12 <= len(raw):
        (n,) = struct.unpack_from("<Q", raw, o)
        (c,) = struct.unpack_from("<I", raw, o + 8)
        if c != _masked_crc(raw[o:o + 8]) or o + 16 + n > len(raw):
            return
        data = raw[o + 12:o + 12 + n]
        (c,) = struct.unpack_from("<I", raw, o + 12 + n)
        if c != _masked_crc(data):
            return
        yield data
        o += 16 + n


def _fields(b):
    """Protobuf wire format: (field, wire type, value) with value an int, or bytes for the fixed and length-delimited types."""
    o = 0

    def varint():
        nonlocal o
        x, s = 0, 0
        while True:
            c = b[o]
            o += 1
            x |= (c & 0x7F) << s
            s += 7
            if not c & 0x80:
                return x

    while o < len(b):
        key = varint()
        f, w = key >> 3, key & 7
        if w == 0:
            yield f, w, varint()
        elif w == 1:
            yield f, w, b[o:o + 8]
            o += 8
        elif w == 5:
            yield f, w, b[o:o + 4]
            o += 4
        elif w == 2:
            n = varint()
            yield f, w, b[o:o + n]
            o += n
        else:
            raise ValueError("wire type %d" % w)


def read_tensorboard(logdir):
    """The scalar events (simple_value) of every run under logdir: {run: {tag: {"step", "value", "wall_time": arrays}}}.

    A run is a directory holding an events file (its path relative to logdir,
    "." for logdir itself). Reads the event files directly, with no
    TensorFlow or TensorBoard: tensorflow.Event {wall_time = 1, step = 2,
    summary = 5}, Summary {value = 1}, Value {tag = 1, simple_value = 2}."""
    runs = {}
    for root, _, files in sorted(os.walk(logdir)):
        for fn in sorted(f for f in files if "tfevents" in f):
            run = os.path.relpath(root, logdir)
            tags = runs.setdefault(run, {})
            for rec in _records(open(os.path.join(root, fn), "rb").read()):
                wall, step, values = 0.0, 0, []
                for f, w, v in _fields(rec):
                    if f == 1 and w == 1:
                        (wall,) = struct.unpack("<d", v)
                    elif f == 2 and w == 0:
                        step = v
                    elif f == 5 and w == 2:
                        for f2, w2, val in _fields(v):
                            if f2 == 1 and w2 == 2:
                                tag, x = None, None
                                for f3, w3, u in _fields(val):
                                    if f3 == 1 and w3 == 2:
                                        tag = u.decode("utf-8")
                                    elif f3 == 2 and w3 == 5:
                                        (x,) = struct.unpack("<f", u)
                                if tag is not None and x is not None:
                                    values.append((tag, x))
                for tag, x in values:
                    tags.setdefault(tag, []).append((step, x, wall))
    return {run: {tag: {"step": np.array([s for s, _, _ in ev], dtype=np.int64), "value": np.array([x for _, x, _ in ev], dtype=np.float32),
                        "wall_time": np.array([t for _, _, t in ev])} for tag, ev in tags.items()} for run, tags in runs.items()}


def _main(argv):
    if len(argv) == 3 and argv[0] == "rescore":
        print(json.dumps(rescore(load_export(argv[1]), read_idx_images(argv[2]))))
    elif len(argv) == 2 and argv[0] == "tensorboard":
        tb = read_tensorboard(argv[1])
        print(json.dumps({run: {tag: [[int(s), float(v)] for s, v in zip(d["step"], d["value"])] for tag, d in tags.items()} for run, tags in tb.items()}))
    else:
        sys.stderr.write("usage: neuroplastic_io.py rescore EXPORT IMAGES_IDX | tensorboard LOGDIR\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
