"""`armature-pipeline status`: is each pipeline healthy, and what did its last loads do."""

from __future__ import annotations

import argparse

from armature_pipeline.commands.flags import targets
from armature_pipeline.status.show import show


def main(args: argparse.Namespace) -> int:
    return show(targets(args), as_json=args.json, max_age_s=args.max_age)
