#!/usr/bin/env python3
"""Writes crates/keywords/tests/fixtures/keybert_top5.json: KeyBERT's top-5 keyphrases for a set
of English lecture descriptions (written for groundrec), with all-MiniLM-L6-v2 and the settings
of ../shared/anchors/keybert_bench.py: keyphrase_ngram_range=(1, 2), stop_words="english",
top_n=5, cosine ranking, all documents in one call.

Run after scripts/setup, in the project's environment with the pinned peers:
  .venv/bin/pip install -c <(echo torch==2.4.0) keybert==0.9.0 sentence-transformers==3.1.1 \
      transformers==4.44.2 tokenizers==0.19.1 huggingface-hub==0.24.7
  .venv/bin/python scripts/make_keybert_fixture.py
"""
import json
import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import keybert  # noqa: E402
from keybert import KeyBERT  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DOCS = [
    "This course introduces fractions for primary school pupils. Learners compare fractions, find common denominators and add and subtract fractions with unlike denominators through visual models and word problems.",
    "An introduction to machine learning covering supervised learning, linear regression, logistic regression, decision trees and model evaluation with cross-validation, using Python and scikit-learn notebooks.",
    "Students explore photosynthesis: how chloroplasts capture light energy, the role of chlorophyll, the light-dependent reactions and the Calvin cycle, and how plants store glucose.",
    "A history lecture on the French Revolution, from the financial crisis of the monarchy and the Estates-General to the Reign of Terror and the rise of Napoleon Bonaparte.",
    "Learn the basics of music theory for piano: major and minor scales, intervals, chord construction, chord progressions and how harmony supports a melody.",
    "This database course teaches relational modelling, normalisation, SQL queries with joins and aggregates, indexes for performance and transactions with isolation levels.",
    "Newtonian mechanics for high school physics: forces, mass and acceleration, friction, free-body diagrams and problems on inclined planes and pulleys.",
    "An introductory statistics class on probability distributions, sampling, confidence intervals, hypothesis testing and the interpretation of p-values in experiments.",
    "Climate change and the carbon cycle: greenhouse gases, global warming, sea level rise, renewable energy and policies to reduce carbon emissions.",
    "A watercolor painting workshop for beginners covering brushes, paper, color mixing, wet-on-wet washes and painting simple landscapes.",
    "Principles of microeconomics: supply and demand, market equilibrium, price elasticity, consumer surplus and the effects of taxes and price controls.",
    "Web development with JavaScript: the document object model, events, asynchronous programming with promises, fetching data from APIs and building interactive pages.",
]


def main():
    model = SentenceTransformer(os.path.join(ROOT, "models", "all-MiniLM-L6-v2"), device="cpu")
    kw = KeyBERT(model=model)
    out = kw.extract_keywords(DOCS, keyphrase_ngram_range=(1, 2), stop_words="english", top_n=5)
    fixture = {
        "generator": "scripts/make_keybert_fixture.py",
        "keybert": keybert.__version__ if hasattr(keybert, "__version__") else "0.9.0",
        "settings": {"keyphrase_ngram_range": [1, 2], "stop_words": "english", "top_n": 5},
        "docs": DOCS,
        "top5": [[[k, float(s)] for k, s in doc] for doc in out],
    }
    path = os.path.join(ROOT, "crates/keywords/tests/fixtures/keybert_top5.json")
    with open(path, "w") as f:
        json.dump(fixture, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("wrote " + path)


if __name__ == "__main__":
    main()
