#!/usr/bin/python3
"""Reproducible trainer for lacuna-embed, the shipped layer-2 model.

Generates the corpus (corpus.py, fixed seeds), builds a WordPiece vocab, trains a
mean-pooled token-embedding encoder jointly with a small MLP tier head (numpy, Adam,
token dropout), calibrates the head by temperature scaling on a validation split, and
writes lacuna-embed.onnx (encoder: input_ids + attention_mask -> sentence_embedding),
vocab.txt, metadata.json (head, centroids, calibration, metrics), the .sha256 file and
heldout.jsonl. Run from anywhere: /usr/bin/python3 src/classify/embed/model/train.py
Needs Debian python3-numpy, python3-scipy, python3-onnx.
"""

import argparse
import collections
import hashlib
import json
import os
import sys

import numpy as np
import scipy.sparse as sp

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import corpus  # noqa: E402
import tokenizer as tok  # noqa: E402
from export_onnx import export  # noqa: E402

TIERS = ["PUBLIC", "INTERNAL", "PROPRIETARY"]
MAX_BYTES = 65536


def build_vocab(texts, size):
    """Specials, every character seen (bare and ##), then the most frequent whole words and
    word prefixes/suffixes, so unseen words still decompose into meaningful pieces."""
    words = collections.Counter()
    for t in texts:
        words.update(tok.basic_tokenize(t))
    chars = set()
    for w in words:
        chars.update(w)
    pieces = collections.Counter()
    for w, c in words.items():
        if c >= 2 and len(w) <= 24:
            pieces[w] += c * 2
        for k in range(2, min(7, len(w))):
            pieces[w[:k]] += c
            pieces["##" + w[-k:]] += c
    base = base_pieces(chars)
    seen = set(base)
    vocab = list(base)
    for p, _ in pieces.most_common():
        if len(vocab) >= size:
            break
        if p not in seen:
            seen.add(p)
            vocab.append(p)
    return vocab


def base_pieces(chars):
    ascii_ = [chr(c) for c in range(33, 127)]
    allc = sorted(set(ascii_) | chars)
    return tok.SPECIALS + allc + ["##" + c for c in allc]


def doc_matrix(texts, vocab, max_len):
    """Row-normalised token-count matrix, counting [CLS]/[SEP] once per chunk exactly as the
    runtime pools chunk means weighted by their token counts."""
    rows, cols, vals = [], [], []
    cls, sepi = vocab[tok.CLS], vocab[tok.SEP]
    body = max_len - 2
    for i, t in enumerate(texts):
        t = t.encode("utf-8")[:MAX_BYTES].decode("utf-8", "ignore")
        ids = tok.encode(t, vocab)
        n_chunks = max(1, (len(ids) + body - 1) // body)
        counts = collections.Counter(ids)
        counts[cls] += n_chunks
        counts[sepi] += n_chunks
        total = sum(counts.values())
        for k, v in counts.items():
            rows.append(i)
            cols.append(k)
            vals.append(v / total)
    return sp.csr_matrix((vals, (rows, cols)), shape=(len(texts), len(vocab)), dtype=np.float32)


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class Model:
    def __init__(self, rng, V, d, h):
        self.p = {
            # Small init: pieces rarely or never seen in training stay near zero, i.e. neutral.
            "E": (rng.standard_normal((V, d)) * 0.02).astype(np.float32),
            "W1": (rng.standard_normal((d, h)) * np.sqrt(2.0 / d)).astype(np.float32),
            "b1": np.zeros(h, np.float32),
            "W2": (rng.standard_normal((h, 3)) * np.sqrt(1.0 / h)).astype(np.float32),
            "b2": np.zeros(3, np.float32),
        }
        self.m = {k: np.zeros_like(v) for k, v in self.p.items()}
        self.v = {k: np.zeros_like(v) for k, v in self.p.items()}
        self.t = 0

    def forward(self, X):
        P = np.asarray(X @ self.p["E"])
        A = P @ self.p["W1"] + self.p["b1"]
        H = np.maximum(A, 0)
        Z = H @ self.p["W2"] + self.p["b2"]
        return P, A, H, Z

    def step(self, X, y, lr, wd):
        P, A, H, Z = self.forward(X)
        n = X.shape[0]
        prob = softmax(Z)
        loss = -np.log(prob[np.arange(n), y] + 1e-12).mean()
        dZ = prob
        dZ[np.arange(n), y] -= 1
        dZ /= n
        g = {"W2": H.T @ dZ, "b2": dZ.sum(0)}
        dH = dZ @ self.p["W2"].T
        dA = dH * (A > 0)
        g["W1"] = P.T @ dA
        g["b1"] = dA.sum(0)
        dP = dA @ self.p["W1"].T
        g["E"] = np.asarray(X.T @ dP)
        self.t += 1
        b1, b2 = 0.9, 0.999
        for k in self.p:
            gk = g[k] + wd * self.p[k]
            self.m[k] = b1 * self.m[k] + (1 - b1) * gk
            self.v[k] = b2 * self.v[k] + (1 - b2) * gk * gk
            mh = self.m[k] / (1 - b1 ** self.t)
            vh = self.v[k] / (1 - b2 ** self.t)
            self.p[k] -= (lr * mh / (np.sqrt(vh) + 1e-8)).astype(np.float32)
        return loss


def merge(members):
    """An ensemble as one model: concatenated embeddings, block-diagonal first layer, averaged
    logits. Mean pooling is linear, so the merged graph computes exactly the ensemble mean."""
    k = len(members)
    d, h = members[0].p["W1"].shape
    out = Model(np.random.default_rng(0), members[0].p["E"].shape[0], d * k, h * k)
    out.p["E"] = np.concatenate([m.p["E"] for m in members], axis=1)
    W1 = np.zeros((d * k, h * k), np.float32)
    for i, m in enumerate(members):
        W1[i * d:(i + 1) * d, i * h:(i + 1) * h] = m.p["W1"]
    out.p["W1"] = W1
    out.p["b1"] = np.concatenate([m.p["b1"] for m in members])
    out.p["W2"] = np.concatenate([m.p["W2"] for m in members], axis=0) / k
    out.p["b2"] = np.mean([m.p["b2"] for m in members], axis=0).astype(np.float32)
    return out


def token_dropout(X, rng, rate):
    """Drop a fraction of each document's token mass and renormalise: robustness to unseen wording."""
    X = X.copy()
    X.data *= (rng.random(X.data.shape[0]) >= rate)
    sums = np.asarray(X.sum(axis=1)).ravel()
    sums[sums == 0] = 1
    return sp.diags(1.0 / sums).astype(np.float32) @ X


def fit_temperature(Z, y):
    """Temperature minimising validation NLL (grid search: one parameter, no optimiser needed)."""
    best = (1.0, float("inf"))
    for T in np.exp(np.linspace(np.log(0.25), np.log(8.0), 120)):
        p = softmax(Z / T)
        nll = -np.log(p[np.arange(len(y)), y] + 1e-12).mean()
        if nll < best[1]:
            best = (float(T), float(nll))
    return best


def ece(prob, y, bins=10):
    conf = prob.max(1)
    pred = prob.argmax(1)
    total = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        sel = (conf > lo) & (conf <= hi)
        if sel.any():
            total += sel.mean() * abs((pred[sel] == y[sel]).mean() - conf[sel].mean())
    return float(total)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--n-train", type=int, default=4200)
    ap.add_argument("--n-heldout", type=int, default=900)
    ap.add_argument("--seed", type=int, default=20261123)
    ap.add_argument("--vocab-size", type=int, default=8000)
    ap.add_argument("--dim", type=int, default=32, help="per ensemble member")
    ap.add_argument("--hidden", type=int, default=16, help="per ensemble member")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--wd", type=float, default=1e-3)
    ap.add_argument("--dropout", type=float, default=0.6)
    ap.add_argument("--max-len", type=int, default=512)
    ap.add_argument("--ensemble", type=int, default=3, help="members merged into one model")
    ap.add_argument("--exemplars", type=int, default=40, help="exemplars per tier for user-model centroid heads")
    ap.add_argument("--write-train", action="store_true", help="also write train.jsonl (not committed: regenerate)")
    a = ap.parse_args()

    rng = np.random.default_rng(a.seed)
    train = corpus.generate("train", a.n_train, a.seed)
    heldout = corpus.generate("heldout", a.n_heldout, a.seed + 1)
    # Stage 1 picks the epoch count and the temperature on templates the fit never saw
    # (in-template validation is trivially perfect and would teach nothing about new wording).
    fit = corpus.generate("fit", a.n_train, a.seed + 2)
    val = corpus.generate("val", a.n_train // 5, a.seed + 3)

    vocab_list = build_vocab([d["text"] for d in train], a.vocab_size)
    vocab = {p: i for i, p in enumerate(vocab_list)}

    def xy(docs):
        X = doc_matrix([d["text"] for d in docs], vocab, a.max_len)
        return X, np.array([TIERS.index(d["tier"]) for d in docs])

    Xf, yf = xy(fit)
    Xv, yv = xy(val)
    Xt, yt = xy(train)
    Xh, yh = xy(heldout)

    def run(X, y, epochs, monitor):
        """Trains a.ensemble members in lockstep (own init, own dropout masks); snapshots the
        epoch with the best ensemble validation accuracy when `monitor` is given."""
        members = [Model(np.random.default_rng(a.seed + 100 * m), len(vocab_list), a.dim, a.hidden)
                   for m in range(a.ensemble)]
        rngs = [np.random.default_rng(a.seed + 7 + 100 * m) for m in range(a.ensemble)]
        history, best = [], (-1.0, None)
        for epoch in range(epochs):
            losses = []
            for model, r in zip(members, rngs):
                order = r.permutation(X.shape[0])
                Xd = token_dropout(X, r, a.dropout)
                losses += [model.step(Xd[order[s:s + 64]], y[order[s:s + 64]], a.lr, a.wd)
                           for s in range(0, len(order), 64)]
            line = f"epoch {epoch + 1:2d} loss {np.mean(losses):.4f}"
            if monitor is not None:
                merged = merge(members)
                acc = float((merged.forward(monitor[0])[3].argmax(1) == monitor[1]).mean())
                history.append(acc)
                line += f" val_acc {acc:.4f}"
                if acc > best[0]:
                    best = (acc, merged)
            print(line, file=sys.stderr)
        return (best[1] if monitor is not None else merge(members)), history

    stage1, history = run(Xf, yf, a.epochs, (Xv, yv))
    best_epoch = int(np.argmax(history)) + 1
    Zv = stage1.forward(Xv)[3]
    T, nll = fit_temperature(Zv, yv)
    pv = softmax(Zv / T)
    val_acc = float((Zv.argmax(1) == yv).mean())

    # Stage 2: the shipped model learns from every training template for the chosen epochs.
    model, _ = run(Xt, yt, best_epoch, None)
    Zh = model.forward(Xh)[3]
    ph = softmax(Zh / T)
    Pt = model.forward(Xt)[0]
    centroids = {t: Pt[yt == i].mean(0).tolist() for i, t in enumerate(TIERS)}

    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(vocab_list) + "\n")
    onnx_path = os.path.join(a.out, "lacuna-embed.onnx")
    export(model.p["E"], onnx_path)
    digest = sha256_file(onnx_path)
    with open(onnx_path + ".sha256", "w") as f:
        f.write(f"{digest}  lacuna-embed.onnx\n")
    with open(os.path.join(a.out, "heldout.jsonl"), "w", encoding="utf-8") as f:
        for d in heldout:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
    # Exemplars: a small labelled sample of the training split from which a user's own
    # embedding model builds its centroid head at load (the shipped model has a trained head).
    ex_rng = np.random.default_rng(a.seed + 11)
    with open(os.path.join(a.out, "exemplars.jsonl"), "w", encoding="utf-8") as f:
        for tier in TIERS:
            pool = [d for d in train if d["tier"] == tier]
            for i in ex_rng.choice(len(pool), a.exemplars, replace=False):
                d = pool[int(i)]
                f.write(json.dumps({"text": d["text"][:4000], "tier": tier, "kind": d["kind"]}, ensure_ascii=False) + "\n")
    if a.write_train:
        with open(os.path.join(a.out, "train.jsonl"), "w", encoding="utf-8") as f:
            for d in train:
                f.write(json.dumps(d, ensure_ascii=False) + "\n")
    train_digest = hashlib.sha256("".join(json.dumps(d) for d in train).encode()).hexdigest()

    def r(x):
        return [round(float(v), 6) for v in x]

    meta = {
        "name": "lacuna-embed",
        "version": 1,
        "description": "Mean-pooled WordPiece token embeddings with an MLP tier head, trained on the synthetic lacuna corpus.",
        "labels": TIERS,
        "onnx": {"file": "lacuna-embed.onnx", "sha256": digest, "inputs": ["input_ids", "attention_mask"],
                 "output": "sentence_embedding", "pooled": True},
        "tokenizer": {"vocab": "vocab.txt", "lowercase": True, "maxLength": a.max_len},
        "dim": a.dim * a.ensemble,
        "head": {
            "type": "mlp",
            "W1": [r(row) for row in model.p["W1"]], "b1": r(model.p["b1"]),
            "W2": [r(row) for row in model.p["W2"]], "b2": r(model.p["b2"]),
            "temperature": round(T, 6),
        },
        "centroids": {k: r(v) for k, v in centroids.items()},
        "training": {
            "script": "src/classify/embed/model/train.py", "seed": a.seed, "nTrain": len(train), "nFitStage1": len(fit), "nValidationStage1": len(val),
            "nHeldout": len(heldout), "vocabSize": len(vocab_list), "epochs": a.epochs, "bestEpoch": best_epoch, "validationCurve": [round(h, 4) for h in history],
            "lr": a.lr, "weightDecay": a.wd, "tokenDropout": a.dropout, "hidden": a.hidden, "ensemble": a.ensemble, "dimPerMember": a.dim,
            "trainSetSha256": train_digest, "heldoutFile": "heldout.jsonl",
            "numpy": np.__version__, "kinds": sorted({k["name"] for k in corpus.KINDS}),
        },
        "metrics": {
            "validationAccuracyStage1": round(val_acc, 4), "validationNll": round(nll, 4),
            "validationEceBefore": round(ece(softmax(Zv), yv), 4), "validationEceAfter": round(ece(pv, yv), 4),
            "heldoutAccuracyL2Alone": round(float((ph.argmax(1) == yh).mean()), 4),
            "heldoutEce": round(ece(ph, yh), 4),
        },
    }
    # Per-kind held-out accuracy: where the model generalises and where it does not.
    kinds = collections.defaultdict(lambda: [0, 0])
    for d, p in zip(heldout, ph.argmax(1)):
        kinds[d["kind"]][0] += int(TIERS[p] == d["tier"])
        kinds[d["kind"]][1] += 1
    meta["metrics"]["heldoutAccuracyByKind"] = {k: round(v[0] / v[1], 3) for k, v in sorted(kinds.items())}
    cm_h = np.zeros((3, 3), int)
    for tt, p in zip(yh, ph.argmax(1)):
        cm_h[tt, p] += 1
    meta["metrics"]["heldoutConfusion"] = {"rows": "true PUBLIC, INTERNAL, PROPRIETARY", "matrix": cm_h.tolist()}
    with open(os.path.join(a.out, "metadata.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print(json.dumps(meta["metrics"]), file=sys.stderr)
    cm = np.zeros((3, 3), int)
    for t, p in zip(yh, ph.argmax(1)):
        cm[t, p] += 1
    print("held-out confusion (rows true P/I/Pr):\n", cm, file=sys.stderr)
    by_kind = collections.defaultdict(lambda: [0, 0, collections.Counter()])
    for d, p in zip(heldout, ph.argmax(1)):
        k = by_kind[d["kind"]]
        k[0] += int(TIERS[p] == d["tier"])
        k[1] += 1
        k[2][TIERS[p]] += 1
    for name, (ok, n, c) in sorted(by_kind.items(), key=lambda kv: kv[1][0] / kv[1][1]):
        print(f"  {name:20s} {ok / n:.2f} {dict(c)}", file=sys.stderr)


if __name__ == "__main__":
    main()
