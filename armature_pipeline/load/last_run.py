"""What the last `armature-pipeline run` of a pipeline ended with, kept for `status`.

dlt records only loads that completed (`_dlt_loads`); a run that failed before or during the
load (the host unreachable, the key revoked, the destination refusing the data) leaves no
row. So each run writes one small file beside the pipeline's lock, in the pipelines folder:

    .armature.last_run.json
    {"pipeline": "armature", "exit_code": 1, "message": "the load step failed (...)",
     "started_at": "2026-12-01T17:30:07+00:00", "finished_at": "...", "seconds": 23.4,
     "load_ids": [], "rows": {}}

A run that is killed (kill -9, the out-of-memory killer, a pulled plug) writes nothing when it
dies, so each run also marks that it began, before it loads anything, and takes the mark away
only as its very last act (after the read copy is published). A mark left behind by a run that
no longer holds the pipeline's lock is a run that never ended: `status` reads it as failed.

    .armature.began.json
    {"pid": 4242, "started_at": "2026-12-01T17:30:07+00:00"}
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any


@dataclass
class LastRun:
    pipeline: str
    exit_code: int
    message: str
    started_at: str
    finished_at: str
    seconds: float
    load_ids: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def finished(self) -> datetime | None:
        try:
            return datetime.fromisoformat(self.finished_at)
        except ValueError:
            return None


def path_of(pipelines_dir: str | Path, pipeline_name: str) -> Path:
    return Path(pipelines_dir) / f".{pipeline_name}.last_run.json"


def record(pipelines_dir: str | Path, pipeline_name: str, exit_code: int, message: str,
           seconds: float, load_ids: list[str] | None = None,
           rows: dict[str, int] | None = None) -> None:
    """Write the run's outcome (atomically: a reader never sees half a file)."""
    finished = datetime.now(timezone.utc)
    started = finished - timedelta(seconds=seconds)
    # to the millisecond: `status` tells a load the run made from one made after it ended
    entry = LastRun(pipeline_name, exit_code, message, started.isoformat(timespec="milliseconds"),
                    finished.isoformat(timespec="milliseconds"), round(seconds, 3),
                    list(load_ids or []), dict(rows or {}))
    target = path_of(pipelines_dir, pipeline_name)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name(target.name + ".tmp")
    scratch.write_text(json.dumps(asdict(entry)))
    os.replace(scratch, target)


def began_path(pipelines_dir: str | Path, pipeline_name: str) -> Path:
    return Path(pipelines_dir) / f".{pipeline_name}.began.json"


def began(pipelines_dir: str | Path, pipeline_name: str) -> None:
    """Mark that a run began (it holds the pipeline's lock); `ended` takes the mark away."""
    target = began_path(pipelines_dir, pipeline_name)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name(target.name + ".tmp")
    scratch.write_text(json.dumps({"pid": os.getpid(),
                                   "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}))
    os.replace(scratch, target)


def ended(pipelines_dir: str | Path, pipeline_name: str) -> None:
    """The run ended in a way it could say (its outcome is recorded): take its mark away."""
    began_path(pipelines_dir, pipeline_name).unlink(missing_ok=True)


def never_ended(pipelines_dir: str | Path, pipeline_name: str) -> str | None:
    """When the run that left its mark began, if one did (read only while no run holds the
    lock: a mark then is a run that died without a word)."""
    try:
        data: Any = json.loads(began_path(pipelines_dir, pipeline_name).read_text())
        return str(data["started_at"])
    except (OSError, ValueError, TypeError, KeyError):
        return None


def read(pipelines_dir: str | Path, pipeline_name: str) -> LastRun | None:
    """The last run's outcome; None when no run of this version of the command wrote one."""
    try:
        data: Any = json.loads(path_of(pipelines_dir, pipeline_name).read_text())
        return LastRun(**data)
    except (OSError, ValueError, TypeError):
        return None
