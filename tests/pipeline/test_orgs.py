"""Several organizations from dlt's config, each loaded as its own pipeline, isolated: two
simulator processes with different seeds stand for two Armature organizations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from armature_sim.server import RunningSim
from tests.support.expectations import assert_first_load
from tests.support.orgs import cli, org_file, write_orgs


@pytest.mark.slow
def test_all_orgs_load_each_into_its_own_pipeline_and_file_exactly(
    sim: Any, second_org: RunningSim, tmp_path: Path
) -> None:
    sim.control.reset(seed=4, runs=70, sessions=50)
    second_org.control.reset()
    write_orgs(tmp_path, {"acme": (sim.api_url, sim.api_key),
                          "globex": (second_org.api_url, second_org.api_key)})
    done = cli(tmp_path, "run", "--all-orgs")
    assert done.returncode == 0, done.stderr
    assert "2 of 2 loaded" in done.stdout
    acme, globex = org_file(tmp_path, "acme"), org_file(tmp_path, "globex")
    assert_first_load(acme, sim.control.truth())
    assert_first_load(globex, second_org.control.truth())
    assert not acme.ids("runs") & globex.ids("runs")

    # the second round loads only what is new, for each
    sim.control.advance(minutes=120)
    second_org.control.advance(minutes=120)
    again = cli(tmp_path, "run", "--all-orgs")
    assert again.returncode == 0, again.stderr
    assert {r["id"] for r in sim.control.truth()["runs"]} <= acme.ids("runs")
    assert {r["id"] for r in second_org.control.truth()["runs"]} <= globex.ids("runs")


def test_one_org_failing_does_not_stop_the_others_and_the_summary_names_it(
    sim: Any, second_org: RunningSim, tmp_path: Path
) -> None:
    sim.control.reset(seed=4, runs=70, sessions=50)
    write_orgs(tmp_path, {"broken": (sim.api_url, "amt_revoked_key"),
                          "globex": (second_org.api_url, second_org.api_key)})
    done = cli(tmp_path, "run", "--all-orgs")
    assert done.returncode == 1
    assert "failed: broken (exit 2)" in done.stdout
    assert "organization broken" in done.stderr and "rejected" in done.stderr
    assert org_file(tmp_path, "globex").count("runs") == len(second_org.control.truth()["runs"])
    assert not (tmp_path / "armature_broken.duckdb").exists()


def test_org_picks_one_and_bad_org_config_exits_2_naming_the_setting(
    sim: Any, tmp_path: Path
) -> None:
    sim.control.reset(seed=4, runs=70, sessions=50)
    write_orgs(tmp_path, {"acme": (sim.api_url, sim.api_key)})
    assert cli(tmp_path, "run", "--org", "acme", "--resources", "organization").returncode == 0
    with duckdb.connect(str(tmp_path / "armature_acme.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from armature_data.organization").fetchone() == (1,)
    unknown = cli(tmp_path, "run", "--org", "nope")
    assert unknown.returncode == 2 and "configured: acme" in unknown.stderr

    (tmp_path / ".dlt" / "config.toml").write_text(
        f'[armature.orgs.acme]\nbase_url = "{sim.api_url}"\napi_key = "{sim.api_key}"\n')
    (tmp_path / ".dlt" / "secrets.toml").write_text("")
    leaked = cli(tmp_path, "run", "--org", "acme")
    assert leaked.returncode == 2 and "move it to .dlt/secrets.toml" in leaked.stderr
    assert sim.api_key not in leaked.stderr + leaked.stdout
