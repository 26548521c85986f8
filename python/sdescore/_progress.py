"""Progress bars for long calls (simulate, fit_score, physics, compare): shown when a person is
probably watching, drawn with tqdm (Debian python3-tqdm)."""
from __future__ import annotations

import sys


def watched() -> bool:
    """True when a person is probably watching: a terminal on stderr, or a notebook kernel."""
    if "ipykernel" in sys.modules:
        return True
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class Bar:
    """progress(done, total) callback drawing a tqdm bar in `unit`s."""

    def __init__(self, desc: str, unit: str, unit_scale: bool = False):
        self.desc, self.unit, self.unit_scale = desc, unit, unit_scale
        self.bar = None

    def __call__(self, done: float, total: float) -> None:
        if self.bar is None:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=self.desc, unit=self.unit, unit_scale=self.unit_scale, leave=False)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
