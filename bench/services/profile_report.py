"""Summarise a py-spy collapsed-stack profile: the functions with the most samples.

    uv run python bench/services/profile_report.py PROFILE [--top 25] [--match intake,haven]

Prints, per function, the share of samples it was on the stack (inclusive) and on top of it
(self), leaving out idle threads' waits. `--match` keeps only frames whose file contains one of
the given words in the inclusive table (the code we own).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

IDLE = (
    "wait (threading.py",
    "select (selectors.py",
    "_worker (concurrent/futures/thread.py",
    "run_forever",
    "poll (kafka",
    "_poll (kafka",
    "get (queue.py",
    "sleep",
    "accept",
)


def frames(line: str) -> tuple[list[str], int]:
    stack, _, count = line.rpartition(" ")
    return stack.split(";"), int(count)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("profile")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--match", default="")
    args = ap.parse_args()
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in Path(args.profile).read_text().splitlines():
        if not line.strip():
            continue
        stack, n = frames(line)
        if any(word in stack[-1] for word in IDLE):
            continue
        total += n
        own[stack[-1]] += n
        for f in set(stack):
            inclusive[f] += n
    words = [w for w in args.match.split(",") if w]
    print(f"busy samples: {total}")
    print("\nself:")
    for f, n in own.most_common(args.top):
        print(f"{100 * n / total:6.1f}%  {f}")
    print("\ninclusive:")
    shown = 0
    for f, n in inclusive.most_common():
        if words and not any(re.search(w, f) for w in words):
            continue
        print(f"{100 * n / total:6.1f}%  {f}")
        shown += 1
        if shown >= args.top:
            break
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
