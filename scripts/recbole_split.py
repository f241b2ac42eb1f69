#!/usr/bin/env python3
"""RecBole's own split of MovieLens-100K, written out so that examples/evaluate.rs can check
that its split is the same one (scripts/evaluate ml100k --recbole-split).

Runs RecBole 1.2.1's data pipeline only (no training) with the settings of the anchor
(../shared/anchors/sasrec_recbole_ml100k.py) that decide the split: the dataset as the wheel
ships it, columns user_id / item_id / timestamp, SASRec's sequential dataset with
MAX_ITEM_LIST_LENGTH 50, eval_args LS valid_and_test, order TO, grouped by user.

Usage: python recbole_split.py OUT.tsv
Writes one line per user: user token, validation target, test target, and the test input
(RecBole's item_list, oldest first, at most 50), all as the file's own tokens.
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from recbole_config import anchor_config  # noqa: E402


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: recbole_split.py OUT.tsv")
    out = os.path.abspath(sys.argv[1])
    from recbole.config import Config
    from recbole.data import create_dataset

    run_dir = tempfile.mkdtemp(prefix="recbole_split_")
    os.chdir(run_dir)
    cfg = anchor_config(run_dir)
    config = Config(model="SASRec", dataset="ml-100k", config_dict=cfg)
    dataset = create_dataset(config)
    _, valid, test = dataset.build()
    uid, iid = dataset.uid_field, dataset.iid_field
    lst, length = dataset.item_id_list_field, dataset.item_list_length_field

    def tokens(field, ids):
        return dataset.id2token(field, ids)

    valid_target = {}
    v = valid.inter_feat
    for u, i in zip(tokens(uid, v[uid].numpy()), tokens(iid, v[iid].numpy())):
        valid_target[u] = i
    t = test.inter_feat
    rows = []
    for u, i, hist, n in zip(tokens(uid, t[uid].numpy()), tokens(iid, t[iid].numpy()),
                             t[lst].numpy(), t[length].numpy()):
        history = " ".join(tokens(iid, hist[:n]))
        rows.append(f"{u}\t{valid_target.get(u, '')}\t{i}\t{history}\n")
    with open(out + ".tmp", "w") as f:
        f.writelines(rows)
    os.replace(out + ".tmp", out)
    print(f"recbole split: {len(rows)} users, {len(dataset.inter_feat)} training sequences "
          f"before the split, written to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
