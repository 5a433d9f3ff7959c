"""What the benchmarks and evaluations share: where the public data is, and how to read it."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

#: ``../shared/data`` beside the repository (CI has it there too).
DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
#: ``../shared/seeds``: the five sample documents the product was designed around.
DEFAULT_SEEDS = DEFAULT_DATA.parent / "seeds"


def aeb_gold_bodies(data_dir: Path) -> list[tuple[str, str]]:
    """``(name, gold article body)`` of the scrapinghub-aeb pages, in a fixed order."""
    with gzip.open(data_dir / "scrapinghub-aeb" / "ground-truth.json.gz", "rt", encoding="utf-8") as handle:
        truth = json.load(handle)
    return [(f"aeb/{key[:12]}", truth[key]["articleBody"]) for key in sorted(truth)]
