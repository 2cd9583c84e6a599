"""`armature-pipeline check`: the key's smoke test and the host's /openapi against what we read."""

from __future__ import annotations

import argparse

from armature_pipeline.commands.flags import resolve
from armature_pipeline.load.loader import source_config
from armature_pipeline.settings import UsageError
from armature_source.contract.check import check_host
from armature_source.errors import ConfigError


def main(args: argparse.Namespace) -> int:
    config = source_config(resolve(args))
    try:
        return check_host(config.connection)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
