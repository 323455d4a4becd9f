#!/usr/bin/env python3
"""What a function adds over its floor, itemised by crate (docs/benchmarks.md, "What each function adds").

    scripts/zip-items.py <function binary> <baseline binary> [--top N]

Both binaries must keep their symbols (built with CARGO_PROFILE_RELEASE_STRIP=false and otherwise
the release profile: fat LTO, opt-level z). Each symbol of the code and data sections (`nm -S`) is
charged to the crate its demangled name starts with (the trait's crate for `<T as Trait>` when T
is a generic parameter, the type's otherwise), the way cargo-bloat charges them; what has no
symbol (string literals merged by the linker, unwind tables, relocations) is reported per section
(`size -A`). Sizes are of the uncompressed ELF: the zip is about 40 % of it."""

import re
import subprocess
import sys
from collections import Counter

SECTIONS = (".text", ".rodata", ".data.rel.ro", ".eh_frame", ".eh_frame_hdr", ".gcc_except_table", ".rela.dyn")


def sections(path):
    out = subprocess.run(["size", "-A", path], check=True, capture_output=True, text=True).stdout
    sizes = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            sizes[parts[0]] = int(parts[1])
    return sizes


CRATE = re.compile(r"^[<&*\s]*(?:dyn |impl |mut |const )*([A-Za-z_][A-Za-z0-9_]*)::")


def crate_of(name):
    # `<T as crate::Trait>::f` with T a concrete type: the type's crate; `<impl ...>`: its path.
    match = CRATE.match(name)
    if match:
        return match.group(1)
    if name.startswith("_ZN") or name.startswith("_R"):
        return "(mangled)"
    return "(C and assembly: aws-lc, ring, libc)"


def symbols(path):
    out = subprocess.run(["nm", "-S", "--size-sort", "-C", path], check=True, capture_output=True, text=True).stdout
    by_crate = Counter()
    for line in out.splitlines():
        parts = line.split(" ", 3)
        if len(parts) < 4 or parts[2].lower() not in "tdrbv":
            continue
        by_crate[crate_of(parts[3])] += int(parts[1], 16)
    return by_crate


def main():
    args = sys.argv[1:]
    top = 25
    if "--top" in args:
        i = args.index("--top")
        top = int(args[i + 1])
        del args[i : i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    function, baseline = args
    fs, bs = sections(function), sections(baseline)
    print(f"| section | {function.split('/')[-1]} (KiB) | floor (KiB) | added (KiB) |")
    print("|---|---|---|---|")
    for name in SECTIONS:
        if name in fs or name in bs:
            f, b = fs.get(name, 0), bs.get(name, 0)
            print(f"| {name} | {f / 1024:,.0f} | {b / 1024:,.0f} | {(f - b) / 1024:+,.0f} |")
    total_f, total_b = sum(fs.values()), sum(bs.values())
    print(f"| all | {total_f / 1024:,.0f} | {total_b / 1024:,.0f} | {(total_f - total_b) / 1024:+,.0f} |")
    print()
    fc, bc = symbols(function), symbols(baseline)
    delta = Counter({k: fc.get(k, 0) - bc.get(k, 0) for k in set(fc) | set(bc)})
    print("| crate | symbols (KiB) | floor (KiB) | added (KiB) |")
    print("|---|---|---|---|")
    for name, added in sorted(delta.items(), key=lambda kv: -abs(kv[1]))[:top]:
        print(f"| {name} | {fc.get(name, 0) / 1024:,.1f} | {bc.get(name, 0) / 1024:,.1f} | {added / 1024:+,.1f} |")
    print(f"| (all symbols) | {sum(fc.values()) / 1024:,.0f} | {sum(bc.values()) / 1024:,.0f} | "
          f"{(sum(fc.values()) - sum(bc.values())) / 1024:+,.0f} |")


if __name__ == "__main__":
    main()
