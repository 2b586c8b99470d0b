"""Deploy the successful builds, one ``POST /deploys`` each, never twice.

The body is ``deploy-options`` with ``buildId`` set (``creating.deploy_once`` builds it). The
Idempotency-Key depends only on the run, the platform and the build id, so a re-run of the same
workflow run (pass a ``run_key`` without the attempt number) sends the same key and the API can
refuse to deploy the same build again. A platform whose state already holds a deploy is skipped.
The first failing deploy stops the phase: the deploys made before it stay recorded in ``states``
(and ``on_deployed`` is told of each at once). A deploy whose outcome is unknown (its answer
was lost, or a signal cut its ``POST /deploys`` off after it was sent) is marked
``deploy_unknown`` in its state, so that the record makes a re-run refuse to deploy it blindly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from capwrapper_action.api.client import CapwrapperClient
from capwrapper_action.api.creating import deploy_once
from capwrapper_action.api.models import BuildStatus, Platform
from capwrapper_action.errors import ApiError, CancelledError
from capwrapper_action.ghio import ActionIO
from capwrapper_action.report.deploys import describe_deploy
from capwrapper_action.result import PlatformState


def deploy_key(run_key: str, platform: str, build_id: str) -> str:
    """The Idempotency-Key of the deploy of ``build_id``: the same for every attempt of a run."""
    return f"{run_key}:deploy:{platform}:{build_id}"


def deploy_builds(
    client: CapwrapperClient,
    states: Mapping[Platform, PlatformState],
    options: Mapping[str, Any],
    *,
    run_key: str,
    log: ActionIO,
    deadline: float | None = None,
    on_deployed: Callable[[], None] | None = None,
) -> None:
    """Deploy every successful build in ``states`` and record the deploy in ``states[p].deploy``.

    Raises the ``ApiError`` of the first deploy that fails (``deploy_once`` retries only what
    surely was not carried out)."""
    for platform, state in states.items():
        build = state.build
        if build is None or build.status != BuildStatus.SUCCESS:
            log.info(f"{platform}: no successful build to deploy")
            continue
        if state.deploy is not None:
            earlier = " by an earlier run (recorded on the commit)" if state.deploy_reused else ""
            log.info(f"{platform}: {build.id} already deployed as {state.deploy.id}{earlier}; "
                     "not deploying it again")
            continue
        log.info(f"{platform}: deploying {build.id}")
        try:
            deploy = deploy_once(client, build.id, options, deadline=deadline,
                                 idempotency_key=deploy_key(run_key, platform, build.id))
        except (ApiError, CancelledError) as exc:
            sent = not (isinstance(exc, CancelledError) and exc.before_send)
            state.deploy_unknown = sent and (isinstance(exc, CancelledError)
                                             or exc.outcome_unknown)
            raise
        state.deploy = deploy
        log.info(f"{platform}: deploy {describe_deploy(deploy, options)}")
        if on_deployed is not None:
            on_deployed()  # recorded now: a later failure or cancel cannot lose it
