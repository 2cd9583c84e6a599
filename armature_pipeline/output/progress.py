"""Progress bars on a terminal, for the counters the source reports (`armature_source.progress`).

On a terminal (standard error is a tty, text logs, not --quiet) each counter gets a tqdm bar:
`runs listed` of the host's total (or pages when it gives none), and the finished runs
loaded with their children. Log lines still print above the bars (each clears them for the
line and draws them again), and the source's every-10-seconds progress lines, which say the
same as the bars, are left out. In a log (not a tty) nothing is drawn and those lines stay.

tqdm rather than enlighten or dlt's own collectors: tqdm has no dependencies, is the most used
and best kept of the three, degrades to nothing off a terminal, and lets a log line be written
between bars (`external_write_mode`); enlighten pulls in blessed and takes over the terminal's
bottom lines; dlt's collectors (`progress="tqdm"`) belong to one pipeline object, while a
demo or --full-refresh loads through a scratch pipeline, and they count dlt's steps, not the
listing.
"""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager, nullcontext
from typing import Any, Iterator

from armature_pipeline.output import logs
from armature_source.load.progress import Step, watching

PROGRESS_LOGGER = "armature_source.load.progress"


def wanted() -> bool:
    """Whether bars make sense: a terminal, text logs, not --quiet."""
    return sys.stderr.isatty() and logs.interactive()


@contextmanager
def shown(enabled: bool | None = None) -> Iterator[None]:
    """Draw a bar per counter while the block runs (when `wanted()`, unless told)."""
    if not (wanted() if enabled is None else enabled):
        yield
        return
    from tqdm import tqdm

    bars: dict[tuple[str, str], Any] = {}

    def on_step(step: Step) -> None:
        key = (step.resource, step.counter)
        bar = bars.get(key)
        if bar is None:
            bar = bars[key] = tqdm(desc=f"{step.resource}: {step.counter}", total=step.total,
                                   unit="", file=sys.stderr, leave=False, dynamic_ncols=True)
        if step.total is not None and bar.total != step.total:
            bar.total = step.total
        bar.update(step.done - bar.n)
        if step.finished:
            bar.close()

    quiet_lines = logging.getLogger(PROGRESS_LOGGER)
    level = quiet_lines.level
    quiet_lines.setLevel(logging.WARNING)
    logs.LineHandler.around_emit = lambda: tqdm.external_write_mode(file=sys.stderr)
    try:
        with watching(on_step):
            yield
    finally:
        logs.LineHandler.around_emit = nullcontext
        quiet_lines.setLevel(level)
        for bar in bars.values():
            bar.close()
