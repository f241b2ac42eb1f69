#!/usr/bin/env python3
"""RecBole 1.2.1's SASRec on MovieLens-100K, test-ranked under both rules of full ranking.

The anchor (../shared/anchors/sasrec_recbole_ml100k.py) trains RecBole's SASRec with its
defaults and reports RecBole's own test figures, whose full ranking for sequential models masks
nothing but the padding id. groundrec's serving rule never shows a movie the user has rated, so
its evaluation masks the user's earlier ratings. This trains the same model with the same
settings and seed, epoch by epoch with no validation pass in between (the validation pass draws
no random numbers, so the weights after epoch E are the anchor's after epoch E), and after each
epoch named by --test-after ranks the test cases both ways from one score matrix:
  - "recbole": RecBole's rule (its evaluate() is run as well, as a cross-check of the figure);
  - "masked":  every movie of the user's earlier ratings (training and validation) left out.
Ranks count strictly higher scores; HR@10 and NDCG@10 as RecBole computes them.

Usage: python recbole_ml100k.py [--test-after 26,27] [--threads 2] [--seed 2020]
Run with .venv-recbole (scripts/evaluate ml100k --recbole-split makes it). Prints one JSON line
per tested epoch on stdout; progress on stderr.
"""
import argparse
import json
import math
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from recbole_config import anchor_config  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--test-after", default="26,27")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=2020)
    args = ap.parse_args()
    test_after = sorted({int(e) for e in args.test_after.split(",")})

    import numpy as np
    import recbole
    import torch
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.model.sequential_recommender import SASRec
    from recbole.trainer import Trainer
    from recbole.utils import init_seed

    run_dir = tempfile.mkdtemp(prefix="recbole_ml100k_")
    os.chdir(run_dir)
    cfg = anchor_config(run_dir, seed=args.seed, epochs=max(test_after))
    config = Config(model="SASRec", dataset="ml-100k", config_dict=cfg)
    init_seed(config["seed"], config["reproducibility"])
    torch.set_num_threads(args.threads)
    dataset = create_dataset(config)
    train_data, valid_data, test_data = data_preparation(config, dataset)
    init_seed(config["seed"], config["reproducibility"])
    model = SASRec(config, train_data.dataset).to("cpu")
    trainer = Trainer(config, model)
    trainer.eval_collector.data_collect(train_data)

    uid, iid = dataset.uid_field, dataset.iid_field
    lst = dataset.item_id_list_field
    earlier = {}  # user -> every item of the training and validation part
    for part in (train_data.dataset.inter_feat, valid_data.dataset.inter_feat):
        for u, i, hist in zip(part[uid].numpy(), part[iid].numpy(), part[lst].numpy()):
            s = earlier.setdefault(int(u), set())
            s.add(int(i))
            s.update(int(h) for h in hist if h != 0)

    def rank_test():
        model.eval()
        ranks = {"recbole": [], "masked": []}
        with torch.no_grad():
            for batch in test_data:
                inter = batch[0]
                scores = model.full_sort_predict(inter).view(-1, dataset.item_num)
                scores[:, 0] = -math.inf
                users = inter[uid].numpy()
                targets = inter[iid].numpy()
                for r in range(scores.shape[0]):
                    row = scores[r]
                    t = float(row[targets[r]])
                    ranks["recbole"].append(int((row > t).sum()))
                    seen = [i for i in earlier.get(int(users[r]), ()) if i != targets[r]]
                    masked = row.clone()
                    if seen:
                        masked[torch.tensor(seen)] = -math.inf
                    ranks["masked"].append(int((masked > t).sum()))
        out = {}
        for rule, rs in ranks.items():
            rs = np.array(rs)
            hit = rs < 10
            out[rule] = {"hit@10": round(float(hit.mean()), 4),
                         "ndcg@10": round(float((hit / np.log2(rs + 2)).mean()), 4)}
        return out, len(ranks["masked"])

    for epoch in range(max(test_after)):
        t = time.perf_counter()
        loss = trainer._train_epoch(train_data, epoch, show_progress=False)
        print(f"epoch {epoch + 1}: loss {float(loss):.4f} ({time.perf_counter() - t:.0f} s)",
              file=sys.stderr, flush=True)
        if epoch + 1 in test_after:
            figures, users = rank_test()
            own = trainer.evaluate(test_data, load_best_model=False, show_progress=False)
            figures["recbole_evaluate"] = {k: round(float(v), 4) for k, v in dict(own).items()}
            print(json.dumps({
                "bench": "recbole_ml100k_both_rules", "epochs": epoch + 1, "users": users,
                "seed": args.seed, "threads": args.threads, "test_full": figures,
                "versions": {"recbole": recbole.__version__, "torch": torch.__version__,
                             "numpy": np.__version__,
                             "python": sys.version.split()[0]},
            }), flush=True)


if __name__ == "__main__":
    main()
