"""The command's logging: one line per event, a time with its zone on every line, text or JSON.

    stderr   every log line: what the load does, warnings, errors (in --quiet: warnings and
             errors only)
    stdout   what a command reports when it ends: the summary after a load (in --quiet:
             its one final line)

so `armature-pipeline run --quiet >> armature.log` keeps one line per successful load in the
log, and cron mails what reaches stderr: only what went wrong. Every handler writes and
flushes line by line, so the two streams interleave in the order things happened when both
go to one file.

Text lines look like `2026-12-01T17:30:07.123+00:00 INFO    message`; JSON lines carry the
same time, level, logger and message, plus the record's structured extras (resource, table,
rows, seconds, ...). JSON comes from python-json-logger (extras, exceptions and odd values
handled); the text line is a plain `logging.Formatter`.

dlt's own logger keeps its messages, but through these handlers, and its repeated warnings
are folded: the first of a kind (a message with its names and numbers taken out) is shown,
the rest are counted and `finish()` logs one `...and N more like it` line per kind.
"""

from __future__ import annotations

import logging
import re
import sys
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any, Callable, Literal

from pythonjsonlogger.json import JsonFormatter

Format = Literal["text", "json"]
FORMATS: tuple[Format, ...] = ("text", "json")
OUR_LOGGERS = ("armature_source", "armature_pipeline")
WAIT_EVERY_S = 10.0
# record attributes that route a line, never shown
TO_STDOUT, FINAL = "armature_stdout", "armature_final"


def iso_time(created: float) -> str:
    """`2026-12-01T17:30:07.123+00:00`: local time with its offset, to the millisecond."""
    return datetime.fromtimestamp(created).astimezone().isoformat(timespec="milliseconds")


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = f"{iso_time(record.created)} {record.levelname:<7} {record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonLineFormatter(JsonFormatter):
    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            reserved_attrs=[*logging.LogRecord("", 0, "", 0, "", None, None).__dict__,
                            "message", "asctime", "taskName", TO_STDOUT, FINAL],
            json_ensure_ascii=False,
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return iso_time(record.created)


class LineHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler whose formatter stays the one it was given.

    dlt's logger set-up (`dlt.common.logger._create_logger`) puts its own formatter on the
    first handler it finds on the `dlt` logger; this one keeps ours. While a progress bar is
    drawn, `around_emit` clears it for the line and draws it again.
    """

    around_emit: Callable[[], AbstractContextManager[Any]] = nullcontext

    def setFormatter(self, fmt: logging.Formatter | None) -> None:
        if self.formatter is None:
            super().setFormatter(fmt)

    def emit(self, record: logging.LogRecord) -> None:
        with LineHandler.around_emit():
            super().emit(record)


class Fold(logging.Filter):
    """Lets the first message of each kind through and counts the rest."""

    VARYING = re.compile(r"`[^`]*`|'[^']*'|\"[^\"]*\"|\d+(?:\.\d+)?")

    def __init__(self) -> None:
        super().__init__()
        self.kinds: dict[tuple[int, str], list[Any]] = {}  # kind -> [first message, more]

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "folded", None) is not None:
            return True
        message = record.getMessage()
        kind = (record.levelno, self.VARYING.sub("_", message))
        if kind not in self.kinds:
            self.kinds[kind] = [message, 0]
            return True
        self.kinds[kind][1] += 1
        return False

    def flush(self, logger: logging.Logger) -> None:
        """One line per kind that repeated, then forget them."""
        for (level, _), (first, more) in self.kinds.items():
            if more:
                logger.log(level, "...and %d more like it (%s)", more, first, extra={"folded": more})
        self.kinds.clear()


_state: dict[str, Any] = {"fold": None, "interactive": False}


def setup(*, verbose: bool = False, quiet: bool = False, fmt: Format = "text") -> None:
    """Route every log line of this process through two line handlers (see the module).

    Called again, it replaces what it set up before: no handler is ever added twice.
    """
    formatter: logging.Formatter = JsonLineFormatter() if fmt == "json" else TextFormatter()
    errors, report, dlts = LineHandler(sys.stderr), LineHandler(sys.stdout), LineHandler(sys.stderr)
    for handler in (errors, report, dlts):
        handler.setFormatter(formatter)
    errors.addFilter(lambda r: not getattr(r, TO_STDOUT, False))
    report.addFilter(lambda r: bool(getattr(r, TO_STDOUT, False)))
    if quiet:
        errors.setLevel(logging.WARNING)
        dlts.setLevel(logging.WARNING)
        report.addFilter(lambda r: bool(getattr(r, FINAL, False)))
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if not isinstance(h, LineHandler)] + [errors, report]
    root.setLevel(logging.WARNING)
    for name in OUR_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
        logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    # dlt sets propagate False on its logger: it gets a handler of its own, which folds (a
    # handler's filter sees only what the logger's own filters let through)
    fold = Fold()
    dlts.addFilter(fold)
    if not verbose:
        dlts.addFilter(_one_line)
    dlt = logging.getLogger("dlt")
    dlt.handlers[:], dlt.propagate = [dlts], False
    _state.update(fold=fold, interactive=not quiet and fmt == "text")
    logging.captureWarnings(True)


def interactive() -> bool:
    """Whether the lines are text for a person (not JSON, not --quiet)."""
    return bool(_state["interactive"])


def finish() -> None:
    """Log the `...and N more like it` lines of dlt's folded warnings."""
    fold = _state.get("fold")
    if isinstance(fold, Fold):
        fold.flush(logging.getLogger("dlt"))


def report(logger: logging.Logger, message: str, *args: Any, final: bool = False,
           level: int = logging.INFO, **extra: Any) -> None:
    """Log a line of what a command reports (stdout); `final` marks the one --quiet keeps."""
    logger.log(level, message, *args, extra={TO_STDOUT: True, FINAL: final, **extra})


def _one_line(record: logging.LogRecord) -> bool:
    """A warning dlt logs with its traceback and goes on after (a trace it could not save) is
    one line naming the error; --verbose keeps the traceback."""
    if record.exc_info and record.exc_info[1] is not None and record.levelno < logging.ERROR:
        error = record.exc_info[1]
        record.msg, record.args = f"{record.getMessage()} ({type(error).__name__}: {error})", None
        record.exc_info, record.exc_text = None, None
    return True
