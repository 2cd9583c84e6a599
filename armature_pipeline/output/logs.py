"""The command's logging: one line per event, a time with its zone on every line, text or JSON.

    stderr   every log line: what the load does, warnings, errors (in --quiet: warnings and
             errors only)
    stdout   what a command reports when it ends: the summary after a load (in --quiet:
             its one final line)

so `armature-pipeline run --quiet 2>&1 >> armature.log | tee -a armature.log` keeps one line
per successful load in the log, and what reaches stderr (only what went wrong) both in the log
and on to cron's mail. Every handler writes and
flushes line by line, so the two streams interleave in the order things happened when both
go to one file.

Text lines look like `2026-12-01T17:30:07.123+00:00 INFO    [armature_acme runs] message`;
JSON lines carry the same time, level, logger and message, plus the record's structured
extras (pipeline, organization, resource, table, rows, seconds, ...). JSON comes from
python-json-logger (extras, exceptions and odd values handled); the text line is a plain
`logging.Formatter`.

Within `fields(pipeline=..., organization=...)` every line is stamped with them by a filter on
the handlers, and with the dlt resource it was logged for (`dlt.current.resource_name()`,
which dlt carries into the threads it runs a resource's steps on; the source's HTTP loop gets
the caller's context with each request). Threads that inherit no context (dlt's normalize and
load workers) get the fields of the load this process is running: one at a time.

dlt's own logger keeps its messages, but through these handlers, and its repeated warnings
are folded: the first of a kind (a message with its names and numbers taken out) is shown,
the rest are counted and `finish()` logs one `...and N more like it` line per kind.
"""

from __future__ import annotations

import logging
import re
import sys
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from datetime import datetime
from typing import Any, Callable, Iterator, Literal

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


_FIELDS: ContextVar[dict[str, str] | None] = ContextVar("armature_log_fields", default=None)
_loading: list[dict[str, str]] = [{}]  # the fields of the load this process runs, for context-less threads


@contextmanager
def fields(**values: str | None) -> Iterator[None]:
    """Stamp every log line logged inside (in any thread of the load) with these fields."""
    stamped = {**(_FIELDS.get() or {}), **{k: v for k, v in values.items() if v}}
    token, before = _FIELDS.set(stamped), _loading[0]
    _loading[0] = stamped
    try:
        yield
    finally:
        _FIELDS.reset(token)
        _loading[0] = before


def stamp(**values: str | None) -> None:
    """Add fields to the lines of the `fields` block this runs in, from here to its end."""
    stamped = _FIELDS.get()
    if stamped is not None:
        stamped.update({k: v for k, v in values.items() if v})


class LoadFields(logging.Filter):
    """Adds the load's fields and the record's dlt resource, unless the line names its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in (_FIELDS.get() or _loading[0]).items():
            if getattr(record, name, None) is None:
                setattr(record, name, value)
        dlt = sys.modules.get("dlt")  # imported by whatever loads; never by the logs themselves
        if dlt is not None and getattr(record, "resource", None) is None:
            try:
                record.resource = dlt.current.resource_name()
            except Exception:  # not inside a resource: the line has none
                pass
        return True


def tag(record: logging.LogRecord) -> str:
    """`[armature_acme runs] `: the pipeline (or organization) and resource of a line, if any."""
    named = [str(v) for v in (getattr(record, "pipeline", None) or getattr(record, "organization", None),
                              getattr(record, "resource", None)) if v]
    return f"[{' '.join(named)}] " if named else ""


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = f"{iso_time(record.created)} {record.levelname:<7} {tag(record)}{record.getMessage()}"
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
TRACEBACK = "Traceback (most recent call last):"


def setup(*, verbose: bool = False, quiet: bool = False, fmt: Format = "text") -> None:
    """Route every log line of this process through two line handlers (see the module).

    Called again, it replaces what it set up before: no handler is ever added twice.
    """
    formatter: logging.Formatter = JsonLineFormatter() if fmt == "json" else TextFormatter()
    errors, report, dlts = LineHandler(sys.stderr), LineHandler(sys.stdout), LineHandler(sys.stderr)
    for handler in (errors, report, dlts):
        handler.setFormatter(formatter)
        handler.addFilter(LoadFields())
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
    if not verbose:  # before the fold, so a folded line is one line too
        dlts.addFilter(_one_line)
    dlts.addFilter(fold)
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
    """A line dlt logs with its traceback (a trace it could not save, a load job that failed:
    the command says in its own line what that meant for the run) is one line naming the
    error, and so is a traceback dlt puts in the text of a line (a load job it retries);
    --verbose keeps the traceback."""
    if record.exc_info and record.exc_info[1] is not None:
        error = record.exc_info[1]
        record.msg, record.args = f"{record.getMessage()} ({type(error).__name__}: {error})", None
        record.exc_info, record.exc_text = None, None
    message = record.getMessage()
    if TRACEBACK in message:
        head, _, trace = message.partition(TRACEBACK)
        last = next((line.strip() for line in reversed(trace.splitlines()) if line.strip()), "")
        record.msg, record.args = f"{head.rstrip()} {last}".strip(), None
    return True
