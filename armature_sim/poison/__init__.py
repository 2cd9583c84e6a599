"""Poison on demand: chosen records served with a value a loader's columns cannot hold.

A rule, as `POST /_sim/poison` takes it (a list of them under `rules`)::

    {"kind": "lone_surrogate", "record": "run", "nth": 3, "field": "reason"}
    {"kind": "deep_json", "record": "tool_call", "id": "…", "parent": "<run id>", "depth": 50}
    {"kind": "deep_json", "record": "span", "nth": 1, "whole_body": true}

`kind` is one of `vocabulary.POISON_KINDS`, `record` one of `vocabulary.RECORD_KINDS`. The
record is named by `id`, or by `nth` (from 1), resolved to an id when the rule is put in
force (`targets`); `field` defaults to a sensible member per kind and record (`rules`). The
spoiled record is served that way by every read endpoint that serves it, list pages and
detail, in both dialects; the rest of each body is unchanged and stays valid JSON (`spoil`).
"""

from armature_sim.poison.rules import PoisonRule, PoisonSpecError
from armature_sim.poison.spoil import Poison

__all__ = ["Poison", "PoisonRule", "PoisonSpecError"]
