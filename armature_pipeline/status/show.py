"""`status` for one pipeline or several: gathered, printed as text or JSON, its exit code."""

from __future__ import annotations

import json
from typing import Any

from armature_pipeline.settings import EXIT_FAILED, EXIT_OK, Settings
from armature_pipeline.status import render
from armature_pipeline.status.gather import gather


def show(targets: list[tuple[str | None, Settings]], *, as_json: bool = False,
         max_age_s: float | None = None) -> int:
    """Print the status of each pipeline; exit 0 when every one is healthy, else 1."""
    statuses = [gather(settings, org, max_age_s) for org, settings in targets]
    if as_json:
        document: Any = (render.as_dict(statuses[0]) if len(statuses) == 1 and
                         statuses[0].organization is None else
                         {"healthy": all(s.healthy for s in statuses),
                          "organizations": [render.as_dict(s) for s in statuses]})
        print(json.dumps(document, default=str), flush=True)
    else:
        print("\n\n".join(render.as_text(s) for s in statuses), flush=True)
    return EXIT_OK if all(s.healthy for s in statuses) else EXIT_FAILED


