#!/usr/bin/env python3
"""Runs a peer program of ../shared/anchors with its model loaded in another dtype.

Usage: python3 scripts/peer_dtype.py DTYPE ANCHOR.py [ANCHOR ARGS...]   (DTYPE: bfloat16)

sentence-transformers (3.1.1) offers this mode itself: `SentenceTransformer(path,
model_kwargs={"torch_dtype": torch.bfloat16})` loads the transformer's weights in bfloat16 and
runs its forward pass in that dtype. The anchor is run unchanged (its texts, warm-up, timing and
JSON line) except that every SentenceTransformer it creates gets that keyword; the JSON line
gains "peer_dtype". Run from the anchors' folder, as scripts/compare does.
"""
import os
import runpy
import sys


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("bfloat16",):
        sys.exit("usage: peer_dtype.py bfloat16 ANCHOR.py [ARGS...]")
    dtype_name, anchor = sys.argv[1], sys.argv[2]
    import torch
    import sentence_transformers

    dtype = getattr(torch, dtype_name)
    base = sentence_transformers.SentenceTransformer

    class InDtype(base):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("model_kwargs", {})["torch_dtype"] = dtype
            super().__init__(*args, **kwargs)

    # KeyBERT picks its backend by the model's type name ("sentence_transformers" in it).
    InDtype.__module__, InDtype.__qualname__ = base.__module__, base.__qualname__
    InDtype.__name__ = base.__name__
    sentence_transformers.SentenceTransformer = InDtype
    # The anchor's JSON line is its last line; mark it with the dtype. The anchor imports
    # anchor_common from its own folder, and then finds this patched module already loaded.
    sys.path.insert(0, os.path.dirname(os.path.abspath(anchor)))
    import anchor_common

    emit = anchor_common.emit

    def emit_marked(d):
        d = dict(d)
        d["peer_dtype"] = dtype_name
        emit(d)

    anchor_common.emit = emit_marked
    sys.argv = [anchor] + sys.argv[3:]
    runpy.run_path(anchor, run_name="__main__")


if __name__ == "__main__":
    main()
