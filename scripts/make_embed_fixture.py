#!/usr/bin/env python3
"""Writes crates/embed/tests/fixtures/reference_vectors.json: sentence-transformers' embeddings
of a fixed set of probe sentences, for both bundled models, so the Rust tests can check that
groundrec-embed reproduces them (cosine >= 0.999 per sentence).

Run inside the project's virtual environment after `scripts/setup`, with the pinned peers:
  .venv/bin/pip install -c <(echo torch==2.4.0) sentence-transformers==3.1.1 transformers==4.44.2 \
      tokenizers==0.19.1 huggingface-hub==0.24.7
  .venv/bin/python scripts/make_embed_fixture.py
"""
import json
import os
import sys

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import sentence_transformers  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PROBES = [
    "A man is playing a guitar on stage.",
    "Résumé writing for the modern job market ÜBER alles",
    "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG",
    "Chapter 12: solving 3x + 7 = 22 in 4 steps",
    "   leading and trailing spaces   ",
    "",
    "분수의 덧셈과 뺄셈을 배우는 초등학교 수학 강의",
    "머신러닝 입문: 선형 회귀부터 신경망까지",
    "Python 프로그래밍 기초 with hands-on projects",
    "東京で日本語を勉強します。",
    "数据科学与机器学习导论",
    "emoji 🎉 and symbols: → ∑ ≠ ∞",
    "a",
    "Online lecture on photosynthesis, cell respiration and the carbon cycle for grade 9 students.",
    " ".join(["This sentence is repeated to exceed the maximum sequence length of the model."] * 60),
    "Quantum mechanics: wave functions, operators and the Schrödinger equation explained simply.",
]

MODELS = [("all-MiniLM-L6-v2", ""), ("multilingual-e5-small", "query: ")]


def main():
    torch.set_num_threads(2)
    out = {
        "generator": "scripts/make_embed_fixture.py",
        "versions": {
            "sentence-transformers": sentence_transformers.__version__,
            "transformers": transformers.__version__,
            "torch": torch.__version__,
        },
        "probes": PROBES,
        "models": {},
    }
    for name, prefix in MODELS:
        path = os.path.join(ROOT, "models", name)
        if not os.path.isdir(path):
            sys.exit("missing %s: run scripts/setup first" % path)
        model = SentenceTransformer(path, device="cpu")
        vecs = model.encode([prefix + p for p in PROBES], batch_size=4, convert_to_numpy=True)
        out["models"][name] = {
            "prefix": prefix,
            "max_seq_length": model.max_seq_length,
            "vectors": [[round(float(v), 6) for v in row] for row in vecs],
        }
        print("%s: %d x %d" % (name, vecs.shape[0], vecs.shape[1]), file=sys.stderr)
    target = os.path.join(ROOT, "crates/embed/tests/fixtures/reference_vectors.json")
    with open(target, "w") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print("wrote " + target, file=sys.stderr)


if __name__ == "__main__":
    main()
