"""The RecBole 1.2.1 settings of the anchor (../shared/anchors/sasrec_recbole_ml100k.py), word
for word, shared by scripts/recbole_split.py and scripts/recbole_ml100k.py."""
import os


def anchor_config(run_dir, seed=2020, epochs=200):
    """The anchor's config dict: MovieLens-100K as the wheel ships it, SASRec's defaults with
    CE over all items, LS valid_and_test split in time order, full ranking, files under run_dir."""
    import recbole

    return {
        "data_path": os.path.join(os.path.dirname(recbole.__file__), "dataset_example"),
        "dataset": "ml-100k",
        "USER_ID_FIELD": "user_id", "ITEM_ID_FIELD": "item_id", "TIME_FIELD": "timestamp",
        "load_col": {"inter": ["user_id", "item_id", "timestamp"]},
        "MAX_ITEM_LIST_LENGTH": 50,
        "loss_type": "CE", "train_neg_sample_args": None,
        "epochs": epochs, "eval_step": 1, "stopping_step": 10,
        "eval_args": {"split": {"LS": "valid_and_test"}, "order": "TO", "group_by": "user",
                      "mode": {"valid": "full", "test": "full"}},
        "metrics": ["Hit", "NDCG"], "topk": [10], "valid_metric": "NDCG@10",
        "use_gpu": False, "device": "cpu", "gpu_id": "", "worker": 0,
        "seed": seed, "reproducibility": True, "show_progress": False,
        "checkpoint_dir": os.path.join(run_dir, "saved"), "save_dataset": False,
        "save_dataloaders": False, "log_wandb": False, "state": "WARNING",
    }
