"""The five endpoints: create, get and list builds, create deploys, download binaries."""

from __future__ import annotations

from typing import Any

from capwrapper_simulator.api import Handler, Request
from capwrapper_simulator.clock import SimClock
from capwrapper_simulator.config import SimConfig
from capwrapper_simulator.replies import Reply, error_reply, json_reply
from capwrapper_simulator.signing import ARTIFACT_EXTENSIONS, UrlSigner, artifact_bytes
from capwrapper_simulator.state import DeployRecord, SimState, new_id
from capwrapper_simulator.validation import InvalidRequest, validate_build_request
from capwrapper_simulator.views import (
    build_view,
    deploy_view,
    encode_cursor,
    list_body,
    page_after,
)


class Endpoints:
    def __init__(
        self, config: SimConfig, state: SimState, clock: SimClock, signer: UrlSigner
    ) -> None:
        self.config = config
        self.state = state
        self.clock = clock
        self.signer = signer
        self.base_url = ""  # set once the server is bound

    def handlers(self) -> dict[str, Handler]:
        return {
            "create_build": self.create_build,
            "get_build": self.get_build,
            "list_builds": self.list_builds,
            "create_deploy": self.create_deploy,
            "download": self.download,
        }

    def view(
        self, build_id: str, status: str | None = None, request: Request | None = None
    ) -> dict[str, Any] | None:
        build = self.state.build(build_id)
        if build is None:
            return None
        now = self.clock.now()
        base = self._base(request)
        return build_view(build, now, self.config, self.signer, base, status=status)

    def _base(self, request: Request | None) -> str:
        """Download links point at the host the client used (it may reach us through a
        container network), else at the bound address."""
        host = request.headers.get("host", "") if request is not None else ""
        if not host or any(c in host for c in "/?#@ "):
            return self.base_url
        return f"http://{host}/v1"

    def create_build(self, request: Request) -> Reply:
        body = request.json_object(self.config.require_json_content_type)
        validate_build_request(body)
        plan = self.config.plan_for(str(body["platform"]))
        record = self.state.add_build(body, plan, self.clock.now(), fingerprint=request.fingerprint)
        # Right after creation a build is always queued, whatever its timings.
        return json_reply(self.config.create_status, self.view(record.id, "queued", request))

    def get_build(self, request: Request) -> Reply:
        view = self.view(request.param, request=request)
        if view is None:
            return _no_build(request.param)
        return json_reply(200, view)

    def list_builds(self, request: Request) -> Reply:
        limit = _page_size(request.arg("limit"), self.config)
        rest = page_after(self.state.newest_first(), request.arg("cursor"))
        page = rest[:limit]
        next_cursor = encode_cursor(page[-1].id) if len(rest) > limit else None
        now = self.clock.now()
        base = self._base(request)
        items = [build_view(b, now, self.config, self.signer, base) for b in page]
        if self.config.list_shape == "link":  # a bare array; the next page in a Link header
            link = {"Link": f'<{base}/builds?limit={limit}&cursor={next_cursor}>; rel="next"'}
            return json_reply(200, items, link if next_cursor else None)
        return json_reply(200, list_body(items, next_cursor, self.config.list_shape))

    def create_deploy(self, request: Request) -> Reply:
        body = request.json_object(self.config.require_json_content_type)
        build_id = body.get("buildId")
        if not isinstance(build_id, str) or not build_id:
            raise InvalidRequest("buildId is required and must be a build id string")
        build = self.state.build(build_id)
        if build is None:
            return _no_build(build_id)
        now = self.clock.now()
        status = build.status_at(now)
        if status != "success":
            raise InvalidRequest(
                f"build {build_id} is {status}; only a successful build can be deployed"
            )
        fields = {k: v for k, v in body.items() if k != "buildId"}
        record = DeployRecord(
            new_id("dep_"), build_id, self.config.deploy_status, now, fields, request.fingerprint
        )
        self.state.add_deploy(record)
        return json_reply(self.config.create_status, deploy_view(record, self.config))

    def download(self, request: Request) -> Reply:
        filename = request.param
        refused = self.signer.verify(
            filename,
            request.arg("expires") or "",
            request.arg("signature") or "",
            self.clock.now(),
        )
        if refused is not None:
            return error_reply(403, "forbidden", refused)
        build_id, _, ext = filename.rpartition(".")
        build = self.state.build(build_id)
        if build is None or ARTIFACT_EXTENSIONS.get(build.platform) != ext:
            return error_reply(404, "not_found", f"No artifact {filename}.")
        if build.status_at(self.clock.now()) != "success":
            return error_reply(404, "not_found", f"Build {build_id} has no artifact.")
        data = artifact_bytes(build_id, self.config.artifact_size)
        headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
        return Reply(200, data, "application/octet-stream", headers)


def _no_build(build_id: str) -> Reply:
    return error_reply(404, "not_found", f"No build with id {build_id}.")


def _page_size(text: str | None, config: SimConfig) -> int:
    if text is None or text == "":
        return config.default_page_size
    if not text.isdigit() or int(text) < 1:
        raise InvalidRequest(
            f"limit must be an integer between 1 and {config.max_page_size}, got {text!r}"
        )
    return min(int(text), config.max_page_size)
