#!/usr/bin/env python3
"""PyTorch reference for the l2core training-speed benchmark (docs/bench/train.md).

Trains the same network with the same settings as `cargo run --release --example train_speed` on the
same rows (written by that example with `--write-data PATH`), single thread, and prints seconds per
epoch and the validation loss after each epoch.

    cargo run --release --example train_speed -- --epochs 3 --write-data /tmp/l2-train-bench
    python scripts/bench/pytorch_train.py /tmp/l2-train-bench --epochs 3

Network: Linear(512,256) ReLU Dropout(0.3) Linear(256,128) ReLU Dropout Linear(128,64) ReLU Dropout
Linear(64,1); He-normal weights and zero biases (as l2core's Mlp::init); loss mean(w * BCEWithLogits);
AdamW(lr 1e-4, betas (0.9, 0.999), eps 1e-8) with weight decay 1e-3 on weight matrices only (biases 0,
as l2core); batch 32 with a seeded shuffle per epoch. Seconds per epoch include the validation pass,
as in l2core's EpochStats; CPU seconds (time.process_time, all threads of the process) are printed
next to wall seconds because benchmark machines are often shared.
"""
import argparse
import json
import time

import numpy as np
import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data", help="path prefix written by train_speed --write-data (PATH.json, PATH.bin)")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    meta = json.load(open(args.data + ".json"))
    d, nt, nv = meta["dims"], meta["train"], meta["val"]
    raw = np.fromfile(args.data + ".bin", dtype="<f4")
    parts, off = [], 0
    for size in (nt * d, nt, nt, nv * d, nv, nv):
        parts.append(raw[off:off + size])
        off += size
    assert off == raw.size, f"{args.data}.bin has {raw.size} floats, expected {off}"
    xt, yt, wt = (torch.from_numpy(parts[0].reshape(nt, d).copy()), torch.from_numpy(parts[1].copy()),
                  torch.from_numpy(parts[2].copy()))
    xv, yv, wv = (torch.from_numpy(parts[3].reshape(nv, d).copy()), torch.from_numpy(parts[4].copy()),
                  torch.from_numpy(parts[5].copy()))

    hidden = [256, 128, 64]
    layers, prev = [], d
    for h in hidden:
        layers += [torch.nn.Linear(prev, h), torch.nn.ReLU(), torch.nn.Dropout(0.3)]
        prev = h
    layers.append(torch.nn.Linear(prev, 1))
    model = torch.nn.Sequential(*layers)
    for m in model:
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            torch.nn.init.zeros_(m.bias)
    decay = [p for n, p in model.named_parameters() if n.endswith("weight")]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias")]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 1e-3}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-4, betas=(0.9, 0.999), eps=1e-8)
    bce = torch.nn.BCEWithLogitsLoss(reduction="none")
    gen = torch.Generator().manual_seed(args.seed)

    print(f"pytorch {torch.__version__}: {nt} x {d} train, {nv} val, hidden {hidden}, batch {args.batch}, "
          f"dropout 0.3, lr 1e-4, {torch.get_num_threads()} thread(s)")
    times, cpus = [], []
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        c0 = time.process_time()
        model.train()
        perm = torch.randperm(nt, generator=gen)
        total = 0.0
        for i in range(0, nt, args.batch):
            idx = perm[i:i + args.batch]
            logits = model(xt[idx]).squeeze(1)
            loss = (wt[idx] * bce(logits, yt[idx])).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        model.eval()
        with torch.no_grad():
            lv = model(xv).squeeze(1)
            val_loss = (wv * bce(lv, yv)).mean().item()
            pred = lv >= 0
            pos = yv == 1
            fpr = (pred & ~pos).sum().item() / max((~pos).sum().item(), 1)
            tpr = (pred & pos).sum().item() / max(pos.sum().item(), 1)
        dt = time.perf_counter() - t0
        dc = time.process_time() - c0
        times.append(dt)
        cpus.append(dc)
        print(f"epoch {epoch:>2}  {dt:.3f} s wall  {dc:.3f} s cpu  train_loss {total / nt:.5f}  val_loss {val_loss:.5f}  "
              f"val_fpr {fpr:.4f}  val_tpr {tpr:.4f}", flush=True)
    print(f"mean {sum(times) / len(times):.3f} s/epoch wall, {sum(cpus) / len(cpus):.3f} s/epoch cpu "
          f"over {len(times)} epochs; "
          f"val_loss after epoch {len(times)}: {val_loss:.5f}")


if __name__ == "__main__":
    main()
