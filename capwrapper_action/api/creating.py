"""Creating builds and deploys without ever making two.

A create whose answer is lost may or may not have happened. For builds the API can tell:
``GET /builds`` lists what exists, so after an unknown outcome we look for the build this run
may have made (same bundle id, version and platform, created since the run began) and adopt
it; only when there is none do we create again. Deploys cannot be listed, so after an unknown
outcome we stop and say so rather than risk a second deploy. A create that surely was not
carried out (429, connection refused, a gateway's 502/503/504) is simply tried again after a
wait. All waits go through the client's ``Retrier``: bounded by time, not by attempts.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from capwrapper_action.api.client import CapwrapperClient
from capwrapper_action.api.models import Build, Deploy
from capwrapper_action.errors import ApiError, BadRequestError, CancelledError
from capwrapper_action.ghio import ActionIO
from capwrapper_action.retry import is_transient

CLOCK_SKEW = timedelta(minutes=5)  # the server's clock may be behind ours
CANCEL_LOOKUP_SECONDS = 5.0  # after a cancel: within the runner's 7.5 s before SIGTERM
CANCEL_LOOKUP_GAP = 1.0
LOOKUP_ITEMS = 100  # newest builds searched for one this run may have made
DASHBOARD_HINT = (
    "Check the builds and deploys on the Capwrapper dashboard before re-running this job: "
    "a re-run may deploy the build a second time."
)


def _surely_not_acted(error: ApiError) -> bool:
    """Errors after which sending the same create again cannot make a second one."""
    return is_transient(error) and not error.outcome_unknown


def create_or_adopt(
    client: CapwrapperClient, body: Mapping[str, Any], *, since: datetime,
    idempotency_key: str, log: ActionIO, deadline: float | None = None,
) -> tuple[Build, bool]:
    """Create the build ``body`` describes, or adopt the one an earlier attempt of this run
    made. Returns ``(build, adopted)``. A create surely not carried out is sent again after
    the wait it asks for; one whose outcome was unknown is looked for in the list and sent
    again when it is not there; both as long as the client's retry budget allows, and no
    wait ends past ``deadline`` (the step's ``timeout``, on the client's clock)."""
    what = _describe(body)
    retrier = client.retrier
    budget = retrier.budget(deadline)
    lost = 0  # creates whose outcome was unknown (and no build was found for them)
    while True:
        try:
            return client.create_build(body, idempotency_key=idempotency_key), False
        except CancelledError as cancelled:
            if not cancelled.before_send:
                cancelled.made = _find_after_cancel(client, body, since, log, what)
            raise
        except ApiError as exc:
            if _surely_not_acted(exc):
                retrier.wait_to_retry(budget, exc, f"creating the {what}", f": {exc.message}")
                continue
            if not (exc.outcome_unknown or (lost and isinstance(exc, BadRequestError))):
                raise
            found = _find_made(client, body, since, exc, what)
            if found is not None:
                log.info(f"Adopted {found.id}: the {what} was made although its answer was "
                         f"lost ({exc.message})")
                return found, True
            if not exc.outcome_unknown:
                raise
            lost += 1
            log.info(f"GET /builds shows no {what} from the lost attempt; creating it again.")
            retrier.wait_to_retry(budget, exc, f"creating the {what}", f": {exc.message}")


def _find_after_cancel(
    client: CapwrapperClient, body: Mapping[str, Any], since: datetime, log: ActionIO,
    what: str,
) -> Build | None:
    """The build a create interrupted by a signal may have made: looked for in the list for
    a few seconds (the server may still be answering the create), so the report can name it."""
    clock, started, pause = client.clock, client.clock.now(), threading.Event()
    log.info(f"Cancelled while creating the {what}: looking for it in GET /builds")
    while True:
        try:
            found = _matching(client.newest_builds_now(LOOKUP_ITEMS), body, since)
        except ApiError as exc:
            log.info(f"Could not look for the {what}: {exc.message}")
            found = None
        if found is not None:
            log.info(f"The {what} was made before the cancel: {found.id}")
            return found
        if clock.now() - started + CANCEL_LOOKUP_GAP > CANCEL_LOOKUP_SECONDS:
            log.info(f"GET /builds shows no {what}: it was not made")
            return None
        clock.sleep(CANCEL_LOOKUP_GAP, pause)


def _find_made(
    client: CapwrapperClient, body: Mapping[str, Any], since: datetime, cause: ApiError,
    what: str,
) -> Build | None:
    """The newest build matching ``body`` created since ``since`` (less the skew margin)."""
    try:
        builds = client.list_builds(limit=LOOKUP_ITEMS, max_items=LOOKUP_ITEMS)
    except ApiError as exc:
        raise type(cause)(
            f"Creating the {what} may or may not have worked ({cause.message}), and listing "
            f"the builds to find out failed too: {exc.message}",
            status_code=cause.status_code, error_code=cause.error_code, method=cause.method,
            path=cause.path, outcome_unknown=True,
            hint="Check the builds on the Capwrapper dashboard before re-running this job.",
        ) from None
    return _matching(builds, body, since)


def _matching(builds: list[Build], body: Mapping[str, Any], since: datetime) -> Build | None:
    """The first (newest) of ``builds`` matching ``body``, created since ``since`` (less the
    skew margin)."""
    if since.tzinfo is None:  # a naive time is taken as UTC, like the API's timestamps
        since = since.replace(tzinfo=UTC)
    earliest = since - CLOCK_SKEW
    wanted = (_field(body, "bundleId"), _field(body, "version"), _field(body, "platform"))
    for build in builds:
        same = (build.bundle_id, build.version, build.platform) == wanted
        if same and (build.created_at is None or build.created_at >= earliest):
            return build
    return None


def _field(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    return value.strip() if isinstance(value, str) else None


def deploy_once(
    client: CapwrapperClient, build_id: str, options: Mapping[str, Any], *,
    idempotency_key: str, deadline: float | None = None,
) -> Deploy:
    """Deploy ``build_id`` at most once: sent again (as the client's retry budget allows)
    only when the server surely did not act (no wait ending past ``deadline``); after an
    unknown outcome it stops with an error saying to check the dashboard."""
    body = {**options, "buildId": build_id}
    budget = client.retrier.budget(deadline)
    while True:
        try:
            return client.create_deploy(body, idempotency_key=idempotency_key)
        except ApiError as exc:
            if exc.outcome_unknown:
                raise type(exc)(
                    f"The deploy of {build_id} may or may not have been made: {exc.message}",
                    status_code=exc.status_code, error_code=exc.error_code, method=exc.method,
                    path=exc.path, outcome_unknown=True, hint=DASHBOARD_HINT,
                ) from None
            if not _surely_not_acted(exc):
                raise
            client.retrier.wait_to_retry(budget, exc, f"deploying {build_id}", f": {exc.message}")


def _describe(body: Mapping[str, Any]) -> str:
    return f"{_field(body, 'platform') or '?'} build of version {_field(body, 'version') or '?'}"
