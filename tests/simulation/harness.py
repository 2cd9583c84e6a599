"""One history played against the real simulator, the real command and the library: each step
applied, then every invariant checked (`checks`), the violations returned with what ran.

The tester keeps a model of what it knows: every id the host ever served, whether the last
load by the command failed, the faults armed for the next load, the records served without
their key, the warehouse copies it kept to restore later.
"""

from __future__ import annotations

import shutil
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from armature_pipeline.load import last_run
from armature_sim.server import RunningSim
from tests.simulation import checks
from tests.simulation.destinations import DuckDB, Place
from tests.simulation.processes import STATUS_DEADLINE_S, Ran, command, library, run
from tests.simulation.steps import COMMAND_LOADS, LOADS, Step
from tests.support.warehouse import Warehouse

WORLD: dict[str, Any] = {"seed": 11, "runs": 40, "days": 30, "sessions": 30}  # small: a history takes seconds a step
NOWHERE = "http://127.0.0.1:9/api/armature/v1"  # nothing listens on the discard port
HOSTILE = ("kill", "terminate", "disk_full")  # command loads that may fail by design
# what dlt logs when `run` loads the packages pending and leaves the data it was given
DLT_LOADS_PENDING_ONLY = "will not be extracted"


@dataclass
class Model:
    """What the tester knows of the world and of the pipeline, step by step."""

    ever: dict[str, set[str]] = field(default_factory=dict)
    loaded: bool = False  # a load by our key has succeeded in this warehouse
    command_failed: bool | None = None  # None until a command load ran, and once its record is lost
    library_failed: bool = False  # a library load failed since the last command load
    armed: list[dict[str, Any]] = field(default_factory=list)
    no_key: set[tuple[str, str]] = field(default_factory=set)
    backups: list[str] = field(default_factory=list)  # the copies the destination kept, oldest first
    keep_due: bool = False  # a load succeeded: keep a copy once the step is over

    def saw(self, truth: dict[str, Any]) -> None:
        for kind, ids in checks.served(truth).items():
            self.ever.setdefault(kind, set()).update(ids)


class Harness:
    """The simulator (ours and another organization's), one pipeline's folder and its destination."""

    def __init__(self, ours: RunningSim, theirs: RunningSim, root: Path, place: Place = DuckDB,
                 world: dict[str, Any] | None = None) -> None:
        self.ours, self.theirs, self.root = ours, theirs, root
        self.wh = Warehouse(root / "project")
        self.dest = place(self.wh)
        self.model = Model()
        self.log: list[str] = []
        ours.control.reset(**(world or WORLD))
        self.model.saw(ours.control.truth())

    def close(self) -> None:
        """Free what the history left on the destination's server."""
        self.dest.discard()

    def step(self, step: Step) -> list[str]:
        """Apply one step, then check every invariant; the violations found."""
        apply: Callable[[Step], list[str]] = getattr(self, f"_{step.op}")
        started = time.monotonic()
        problems = apply(step)
        applied = time.monotonic() - started
        if self.model.keep_due:  # after the step: no reader it started still holds the warehouse
            self.model.keep_due = False
            self.model.backups.append(self.dest.keep(len(self.model.backups)))
        if step.op in LOADS and self.model.armed:
            self.ours.control.clear_faults()
            self.model.armed = []
        truth = self.ours.control.truth()
        self.model.saw(truth)
        problems += checks.foreign(self.dest, self.model.ever)
        if step.op in COMMAND_LOADS or step.op in ("down_at_start", "switch_org", "refresh_some", "destination_down"):
            problems += self._status()
        self.log.append(f"  {step.op}: {applied:.1f} s, checked in {time.monotonic() - started - applied:.1f} s")
        return problems

    # loads -------------------------------------------------------------------------------

    def _load(self, step: Step, *extra: str, **how: Any) -> list[str]:
        ran, began = self._command(step, "run", *self._key(), *extra, **how)
        return self._judge(step, ran) if began else self._ended(step, ran)

    def _command(self, step: Step, *args: str, **how: Any) -> tuple[Ran, bool]:
        """Run the command; whether a run began (it took the pipeline's lock and left its mark or
        its record). One that did not began changes nothing `status` could know of."""
        before = self._record()
        ran = run(self.dest, command(self.dest, *args, crash_at=how.pop("crash_at", None)), **how)
        marked = last_run.began_path(*self._where()).exists()
        began = ran.code == 0 or self._record() != before or marked
        recorded = last_run.read(*self._where()) if self._record() != before else None
        if ran.code not in (0, None) and recorded is not None and recorded.ok and not marked:
            # the signal came after the run had ended and recorded its success (while the
            # interpreter shut down): the run succeeded, the exit code is the signal's
            self.log.append(f"{step}: exit {ran.code} after the run ended, recorded as exit 0")
            ran.code = 0
        if began and ran.code != 0:
            self.model.command_failed, self.model.library_failed = True, False
        if not began:
            self.log.append(f"{step}: exit {ran.code} before a run began ({ran.stderr.strip()[-300:]!r})")
        return ran, began

    def _record(self) -> int | None:
        """When the last run's record was written (None: there is none)."""
        try:
            return last_run.path_of(*self._where()).stat().st_mtime_ns
        except OSError:
            return None

    def _where(self) -> tuple[str, str]:
        return str(self.wh.pipelines_dir), self.wh.name

    def _library_load(self, step: Step) -> list[str]:
        ran = run(self.dest, library(self.dest, self.ours.api_url, self.ours.api_key))
        self.log.append(f"{step}: exit {ran.code} in {ran.seconds:.1f} s")
        problems = self._ended(step, ran)
        if ran.code == 0:
            self.model.loaded = True
            problems += checks.lost(self.dest, self.ours.control.truth(), self.model.no_key)
        else:
            self.model.library_failed = True
            if not self.model.armed:
                problems.append(f"no jam: a library load with no fault armed failed\n{ran.tail()}")
        return problems

    def _kill(self, step: Step) -> list[str]:
        if step.args["at"].startswith("publish:") and not self.dest.read_copy:
            self.log.append(f"{step}: {self.dest.name} publishes no read copy, so there is no such point: "
                            "a load with no kill")
            return self._load(step)
        return self._load(step, crash_at=step.args["at"])

    def _terminate(self, step: Step) -> list[str]:
        sig = getattr(signal, step.args["signal"])
        return self._load(step, signal_after=(step.args["after_s"], sig))

    def _full_refresh(self, step: Step) -> list[str]:
        return self._load(step, "--full-refresh")

    def _disk_full(self, step: Step) -> list[str]:
        return self._load(step, full_disk=True)

    def _reader_holds(self, step: Step) -> list[str]:
        """A load while another reader holds the warehouse, letting go a few seconds into it."""
        unfit = self.dest.unfit(step.op)
        if unfit:
            self.log.append(f"{step}: nothing to hold ({unfit}): a load with no reader")
            return self._load(step)
        with self.dest.reader_holds(step.args["seconds"]) as held:
            self.log.append(f"{step}: {held}")
            return self._load(step)

    def _judge(self, step: Step, ran: Ran) -> list[str]:
        """What a command load's end says: exit codes as the model expects, the load's record."""
        self.log.append(f"{step}: exit {ran.code} in {ran.seconds:.1f} s")
        problems = self._ended(step, ran)
        if ran.code == 0:
            self.model.command_failed, self.model.library_failed = False, False
            self.model.loaded = True
            problems += checks.lost(self.dest, self.ours.control.truth(), self.model.no_key)
            self.model.keep_due = self.dest.exists()
        elif not self.model.armed and step.op not in HOSTILE:
            problems.append(f"no jam: a load with no fault armed exited {ran.code}\n{ran.tail()}")
        return problems

    def _ended(self, step: Step, ran: Ran) -> list[str]:
        if ran.hung:
            return [f"no hang: {step} did not end within its deadline ({ran.seconds:.0f} s)\n{ran.tail()}"]
        if "Traceback" in ran.stderr:
            return [f"every end written down: {step} printed a traceback\n{ran.tail(4000)}"]
        return []

    # the host --------------------------------------------------------------------------

    def _advance(self, step: Step) -> list[str]:
        self.ours.control.advance(minutes=step.args["minutes"])
        return []

    def _fault(self, step: Step) -> list[str]:
        self.model.armed.append(step.args["rule"])
        self.ours.control.set_faults(self.model.armed)
        return []

    def _date_skew(self, step: Step) -> list[str]:
        self.ours.control.configure(date_offset_s=step.args["seconds"])
        return []

    def _poison(self, step: Step) -> list[str]:
        rule = step.args["rule"]
        try:
            added = self.ours.control.poison(rule)
        except RuntimeError as exc:  # no such record in this small world: nothing poisoned
            self.log.append(f"{step}: not in force ({str(exc)[:120]})")
            return []
        for spoiled in added:
            if spoiled["kind"] == "missing_id" and spoiled.get("id"):
                self.model.no_key.add((_TABLES[spoiled["record"]], spoiled["id"]))
        return []

    def _down_at_start(self, step: Step) -> list[str]:
        ran, _ = self._command(step, "run", "--base-url", NOWHERE, "--api-key", self.ours.api_key)
        self.log.append(f"{step}: exit {ran.code}")
        problems = self._ended(step, ran)
        if ran.code not in (1, 2):
            problems.append(f"every end written down: a load from a host that is down exited {ran.code}")
        return problems

    def _switch_org(self, step: Step) -> list[str]:
        if not self.model.loaded:
            self.log.append(f"{step}: skipped, nothing of ours loaded yet")
            return []
        ran, _ = self._command(step, "run", "--base-url", self.theirs.api_url, "--api-key", self.theirs.api_key)
        self.log.append(f"{step}: exit {ran.code}")
        problems = self._ended(step, ran)
        if ran.code != 2:
            problems.append(f"the warehouse knows whose it is: another organization's key exited "
                            f"{ran.code}, not 2\n{ran.tail()}")
        return problems

    def _library_switch_org(self, step: Step) -> list[str]:
        if not self.model.loaded:
            self.log.append(f"{step}: skipped, nothing of ours loaded yet")
            return []
        pending = self._pending()
        ran = run(self.dest, library(self.dest, self.theirs.api_url, self.theirs.api_key))
        self.log.append(f"{step}: exit {ran.code}")
        problems = self._ended(step, ran)
        if ran.code == 0 and pending and DLT_LOADS_PENDING_ONLY in ran.stderr:
            # dlt's rule (found by seed 3003): a run with packages pending loads them (ours,
            # extracted before) and extracts nothing of what it was given, and says so; the
            # foreign check above holds, and the next library load meets the refusal
            self.log.append(f"{step}: dlt loaded {pending} pending package(s) of ours and extracted nothing")
        elif ran.code == 0:
            problems.append("the warehouse knows whose it is: the library loaded another organization's key")
        else:
            self.model.library_failed = True
        return problems

    def _pending(self) -> int:
        """Load packages an earlier run extracted or normalized and did not load."""
        working = self.wh.pipelines_dir / self.wh.name
        return sum(len([p for p in (working / folder).glob("*") if p.is_dir()])
                   for folder in ("normalize/extracted", "load/normalized"))

    def _late_children(self, step: Step) -> list[str]:
        self.ours.control.configure(children_delay_minutes=step.args["minutes"])
        return []

    def _rate_limit(self, step: Step) -> list[str]:
        self.ours.control.configure(rate_limit_rps=step.args["rps"])
        return []

    def _destination_down(self, step: Step) -> list[str]:
        """A load while the warehouse cannot be opened or reached (`Destination.down`), then
        the warehouse given back."""
        unfit = self.dest.unfit(step.op)
        if unfit:
            self.log.append(f"{step}: skipped, {unfit}")
            return []
        with self.dest.down():
            ran, _ = self._command(step, "run", *self._key())
        self.log.append(f"{step}: exit {ran.code}")
        problems = self._ended(step, ran)
        if ran.code == 0:
            problems.append("a load into a warehouse that cannot be opened exited 0")
        return problems

    # the operator ----------------------------------------------------------------------

    def _refresh_some(self, step: Step) -> list[str]:
        ran, _ = self._command(step, "run", *self._key(), "--full-refresh", "--resources", "workflows")
        self.log.append(f"{step}: exit {ran.code}")
        problems = self._ended(step, ran)
        if ran.code != 2:
            problems.append(f"scope is honest: --full-refresh --resources exited {ran.code}, not 2")
        return problems

    def _restore_older(self, step: Step) -> list[str]:
        if not self.model.backups:
            self.log.append(f"{step}: skipped, no copy kept yet")
            return []
        backup = self.model.backups[int(step.args["pick"] * len(self.model.backups))]
        self.dest.restore(backup)
        self.log.append(f"{step}: restored {backup}")
        return []

    def _lose_folder(self, step: Step) -> list[str]:
        shutil.rmtree(self.wh.pipelines_dir, ignore_errors=True)
        # how the last run ended was recorded in that folder: until the next run, `status` can
        # know only what the warehouse holds, which is every load that succeeded (seed 20027)
        self.model.command_failed = None
        return []

    def _drop_resource(self, step: Step) -> list[str]:
        argv = ["-m", "dlt", "--yes", "pipeline", "--pipelines-dir", str(self.wh.pipelines_dir), self.wh.name,
                "drop", step.args["resource"]]
        ran = run(self.dest, [sys.executable, *argv])
        self.log.append(f"{step}: exit {ran.code}")
        return self._ended(step, ran)

    # status ----------------------------------------------------------------------------

    def _status(self) -> list[str]:
        if self.model.command_failed is None:
            return []
        ran = run(self.dest, command(self.dest, "status"), STATUS_DEADLINE_S)
        said = (ran.stdout[:2500] + "\n" + ran.stderr[-1000:]).strip()  # its problems come first
        found = checks.status_problems(ran.code, said, self.model.command_failed, self.model.library_failed)
        return found + [p for p in self._ended(Step("status"), ran) if "traceback" in p]

    def _key(self) -> tuple[str, ...]:
        return ("--base-url", self.ours.api_url, "--api-key", self.ours.api_key)


_TABLES = {"run": "runs", "span": "trace_spans", "tool_call": "tool_calls", "evaluation": "evaluations",
           "session": "sessions", "event": "session_events", "topic": "topics", "failed_search": "failed_searches",
           "mcp_server": "mcp_servers", "workflow": "workflows"}
