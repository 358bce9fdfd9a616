#!/usr/bin/env python3
"""Writes Tests/BackpropTests/Fixtures/gzip/: .gz files made by Python's zlib
(the reference DEFLATE encoder) that exercise every part of a decoder:
stored, fixed-Huffman and dynamic-Huffman blocks, long back-references,
several members, optional header fields, and corrupt or truncated files.

    python3 scripts/make_gzip_fixtures.py

Deterministic: fixed random seed, mtime 0."""
import gzip, os, random, struct, zlib

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "BackpropTests", "Fixtures", "gzip")
os.makedirs(OUT, exist_ok=True)

rng = random.Random(5)
words = ["tensor", "gradient", "backward", "forward", "relu", "sigmoid", "weight", "bias", "loss", "adam"]
parts = []
for i in range(1500):
    r = rng.random()
    if r < 0.6:
        parts.append(" ".join(rng.choice(words) for _ in range(rng.randint(1, 8))).encode() + b"\n")
    elif r < 0.8:
        parts.append(bytes(rng.randrange(256) for _ in range(rng.randint(1, 40))))
    else:
        parts.append(b"%d,%f\n" % (i, rng.random()))
# A long run exercises length 258 and overlapping copies (distance < length).
plain = b"".join(parts) + b"ab" * 700 + bytes(300)
with open(os.path.join(OUT, "plain.bin"), "wb") as f:
    f.write(plain)


def gz(data, level=9, strategy=zlib.Z_DEFAULT_STRATEGY, name=None):
    header = bytearray(b"\x1f\x8b\x08")
    header.append(0x08 if name else 0)
    header += struct.pack("<I", 0) + b"\x00\x03"
    if name:
        header += name + b"\x00"
    c = zlib.compressobj(level, zlib.DEFLATED, -15, 9, strategy)
    body = c.compress(data) + c.flush()
    return bytes(header) + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


files = {
    "dynamic.gz": gz(plain, 9),
    "fast.gz": gz(plain, 1),
    "stored.gz": gz(plain, 0),
    "fixed.gz": gz(plain, 6, zlib.Z_FIXED),
    "huffman-only.gz": gz(plain, 6, zlib.Z_HUFFMAN_ONLY),
    "named.gz": gz(plain, 6, name=b"plain.bin"),
    "multi-member.gz": gz(plain[:20000], 6) + gz(plain[20000:], 1),
    "empty.gz": gz(b"", 9),
}
good = files["dynamic.gz"]
bad_crc = bytearray(good)
bad_crc[-8] ^= 0xFF
files["bad-crc.gz"] = bytes(bad_crc)
files["truncated.gz"] = good[: len(good) // 2]
for name, data in files.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print("wrote", len(files) + 1, "files to", os.path.normpath(OUT), "plain:", len(plain), "bytes")
