"""deploy_builds against the Capwrapper simulator over real HTTP on 127.0.0.1."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator

import pytest
import requests

from capwrapper_action.api.client import CapwrapperClient
from capwrapper_action.api.models import Build, Platform
from capwrapper_action.errors import ApiError, CancelledError
from capwrapper_action.ghio import ActionIO
from capwrapper_action.release.deploying import deploy_builds, deploy_key
from capwrapper_action.result import PlatformState
from capwrapper_simulator import SimConfig, Simulator
from tests.virtual_clock import VirtualClock

BUNDLE = "com.example.shop"
OPTIONS = {
    "store": "play",
    "track": "internal",
    "releaseNotes": "Fixes the checkout",
    "rollout": {"percentage": 20},
}


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(SimConfig(honour_idempotency_key=True)) as simulator:
        yield simulator


@pytest.fixture
def log() -> ActionIO:
    return ActionIO(io.StringIO())


@pytest.fixture
def client(sim: Simulator, log: ActionIO) -> Iterator[CapwrapperClient]:
    with requests.Session() as session:
        yield CapwrapperClient(
            sim.base_url, sim.api_key, session=session, clock=VirtualClock(), log=log,
            cancel=threading.Event(),
        )


def seeded_states(sim: Simulator, client: CapwrapperClient, *, ios: str = "success"
                  ) -> dict[Platform, PlatformState]:
    android = sim.seed_build(platform="android", bundle_id=BUNDLE, version="1.2.0")
    apple = sim.seed_build(platform="ios", bundle_id=BUNDLE, version="1.2.0", status=ios)
    return {
        "android": PlatformState("android", build=client.get_build(android.id)),
        "ios": PlatformState("ios", build=client.get_build(apple.id)),
    }


def test_one_deploy_per_build_with_the_options_in_the_body(
    sim: Simulator, client: CapwrapperClient, log: ActionIO
) -> None:
    states = seeded_states(sim, client)
    deploy_builds(client, states, OPTIONS, run_key="octo-org/shop-app:42", log=log)
    made = sim.deploys()
    assert [d.build_id for d in made] == [s.build.id for s in states.values() if s.build]
    for record in made:
        assert record.fields == OPTIONS  # the body was the options plus buildId
    for platform, state in states.items():
        assert state.deploy is not None
        assert state.deploy.build_id == (state.build.id if state.build else "")
        assert state.deploy.id in {d.id for d in made}, platform
    assert sim.request_count("create_deploy") == 2


def test_a_rerun_of_the_same_run_does_not_deploy_again(
    sim: Simulator, client: CapwrapperClient, log: ActionIO
) -> None:
    states = seeded_states(sim, client)
    deploy_builds(client, states, OPTIONS, run_key="octo-org/shop-app:42", log=log)
    first = {p: s.deploy.id for p, s in states.items() if s.deploy}
    again = {p: PlatformState(p, build=s.build) for p, s in states.items()}
    deploy_builds(client, again, OPTIONS, run_key="octo-org/shop-app:42", log=log)
    assert {p: s.deploy.id for p, s in again.items() if s.deploy} == first
    assert len(sim.deploys()) == 2


def test_platforms_already_deployed_or_not_successful_are_skipped(
    sim: Simulator, client: CapwrapperClient, log: ActionIO
) -> None:
    states = seeded_states(sim, client, ios="failed")
    deploy_builds(client, states, {}, run_key="run-7", log=log)
    deploy_builds(client, states, {}, run_key="run-7", log=log)
    assert sim.request_count("create_deploy") == 1
    assert states["ios"].deploy is None
    assert states["android"].deploy is not None
    assert sim.deploys()[0].fields == {}


def test_a_failing_deploy_raises_and_keeps_what_was_made(
    sim: Simulator, client: CapwrapperClient, log: ActionIO
) -> None:
    states = seeded_states(sim, client)
    states["ios"] = PlatformState("ios", build=Build("bld_missing", "success"))
    with pytest.raises(ApiError):
        deploy_builds(client, states, OPTIONS, run_key="run-8", log=log)
    assert states["android"].deploy is not None
    assert states["ios"].deploy is None


def test_each_deploy_is_told_at_once_and_a_cancel_before_sending_is_no_unknown_deploy(
    sim: Simulator, client: CapwrapperClient, log: ActionIO
) -> None:
    # The cancel comes while Android's deploy is being recorded: iOS's POST is never sent,
    # so its deploy is surely not made (unlike one cut off after it was sent).
    states = seeded_states(sim, client)
    told: list[str] = []

    def deployed() -> None:
        made = states["android"].deploy
        told.append(made.id if made else "none")
        client.cancel.set()

    with pytest.raises(CancelledError):
        deploy_builds(client, states, OPTIONS, run_key="run-9", log=log, on_deployed=deployed)
    made = states["android"].deploy
    assert made is not None
    assert told == [made.id]
    assert (states["ios"].deploy, states["ios"].deploy_unknown) == (None, False)
    assert len(sim.deploys()) == 1


def test_deploy_keys_are_stable_per_run_platform_and_build() -> None:
    key = deploy_key("octo-org/shop-app:42", "ios", "bld_1")
    assert key == deploy_key("octo-org/shop-app:42", "ios", "bld_1")
    assert len({key, deploy_key("octo-org/shop-app:43", "ios", "bld_1"),
                deploy_key("octo-org/shop-app:42", "android", "bld_1"),
                deploy_key("octo-org/shop-app:42", "ios", "bld_2")}) == 4
