"""Sharding a build past one machine: ``--shard K/N`` builds a deterministic 1/N of a range's issues.

Every shard lists the same post files and so computes the same split: issues weighted by their number of
post files (file-name dates: cheap, no file is read), the heaviest first, each given to the shard with the
least weight so far (ties to the lowest index) — the classic longest-processing-time rule, within 4/3 of the
best balance. Shard ``K`` (counted from 0, as Kubernetes' ``JOB_COMPLETION_INDEX``) builds its own issues;
together the N shards build every issue of the range exactly once. The engines that run them (GNU
parallel, xargs, a Kubernetes Indexed Job) are described in docs/scale.md.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from digest.errors import ConfigError

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Shard:
    index: int  # K, from 0
    count: int  # N

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """``"K/N"`` with 0 ≤ K < N."""
    m = _SHARD.match(text)
    if not m:
        raise ConfigError(f"--shard must be K/N (e.g. 0/4), not {text!r}")
    k, n = int(m.group(1)), int(m.group(2))
    if n < 1 or not 0 <= k < n:
        raise ConfigError(f"--shard {text}: K must be from 0 to N-1 (N ≥ 1)")
    return Shard(k, n)


def split(weights: Sequence[tuple[str, int]], count: int) -> list[list[str]]:
    """The names of ``weights`` ((issue slug, weight) pairs) in ``count`` shares of about equal weight."""
    load = [0] * count
    shares: list[list[str]] = [[] for _ in range(count)]
    for name, weight in sorted(weights, key=lambda nw: (-nw[1], nw[0])):
        k = min(range(count), key=lambda j: (load[j], j))
        shares[k].append(name)
        load[k] += max(weight, 1)  # an empty day still costs a look
    return [sorted(share) for share in shares]
