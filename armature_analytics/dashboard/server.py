"""Serve the marimo app on a loopback port with uvicorn; the socket is bound before the URL is told."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

import marimo
import uvicorn

from armature_analytics.dashboard.fragments import CSS

APP = Path(__file__).with_name("app.py")


def serve(database: Path, dataset: str, host: str, port: int, ready: Callable[[str], None]) -> None:
    """Run the dashboard until interrupted; `ready` gets its URL once the port is bound.

    Port 0 picks a free port.
    """
    # marimo starts the app itself: live.py reads where the warehouse is from the environment
    os.environ["ARMATURE_DUCKDB"] = str(database)
    os.environ["ARMATURE_DATASET"] = dataset
    app = (
        marimo.create_asgi_app(quiet=True, include_code=False, html_head=f"<style>{CSS}</style>")
        .with_app(path="/", root=str(APP))
        .build()
    )
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    ready(f"http://{shown}:{bound}/")
    server.run(sockets=[sock])
