"""What the pull request hears from a run (input ``pr-comment``).

- A ``pull_request`` / ``pull_request_target`` run keeps one living comment on its pull
  request: written when the builds are created ("building") and again at the end.
- A release run (a push of a merged pull request's merge commit, or the merged pull request's
  ``closed`` event) leaves one "released in" note on that pull request at the end.
- Any other run writes nothing.

``auto``: a token that may not write (403, a fork's read-only token, no token) gives one
warning and the step goes on. ``always``: any failure to write fails the step at the end.
``never``: nothing is written and the API is not asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from capwrapper_action.config.values import PrComment
from capwrapper_action.errors import ActionError
from capwrapper_action.ghio import ActionIO
from capwrapper_action.github.comments import PERMISSION_HINT, CommentError, CommentSync
from capwrapper_action.github.context import GithubFactory
from capwrapper_action.github.event import PULL_REQUEST_EVENTS, GitHubContext, read_event
from capwrapper_action.report import pr_comment as render
from capwrapper_action.result import RunResult, RunStatus

if TYPE_CHECKING:
    from capwrapper_action.config.settings import Config

TITLE = "Pull request comment"
FORK_REASON = (
    "this run comes from a fork, and GitHub gives such runs a read-only token"
)
FORK_HINT = (
    "Comments on pull requests from forks need a workflow on `pull_request_target` or "
    "`workflow_run` (which never builds the fork's code unreviewed), or `pr-comment: never`."
)


def make_feedback(
    config: Config, env: Mapping[str, str], io: ActionIO, connect: GithubFactory
) -> PullRequestFeedback | None:
    """The writer for this run; None when it writes nothing (``never``, a dry run)."""
    if config.dry_run or config.pr_comment == PrComment.NEVER:
        return None
    info = render.CommentInfo(
        bundle_id=config.bundle_id or "",  # resumed builds: learnt from them
        app_name=config.app_name,
        download_links=config.pr_comment_download_links,
        deploy_options=config.deploy_options,
    )
    return PullRequestFeedback(
        config.pr_comment, info, config.github_token, read_event(env), io, connect
    )


@dataclass
class PullRequestFeedback:
    """Writes the comments; ``builds_created`` from the pipeline, ``finish`` from ``main``."""

    mode: PrComment
    info: render.CommentInfo
    token: str = field(repr=False)
    ctx: GitHubContext  # the event's; the pipeline passes the one enriched from the API
    io: ActionIO
    connect: GithubFactory  # (api_url, token) -> PyGithub client
    failures: list[tuple[str, str]] = field(default_factory=list)  # (what, what to do)
    _sync: CommentSync | None = None
    _given_up: bool = False  # after a refusal: no more tries in this run

    def builds_created(self, result: RunResult, ctx: GitHubContext) -> None:
        """The "building" comment on a pull request run."""
        self.ctx = ctx
        if self._living_target() is not None:
            self._safely(result, in_progress=True)

    def finish(self, result: RunResult) -> None:
        """The final comment or note; with ``always``, a failure to write fails the run."""
        if self._living_target() is not None or self._release_target():
            self._safely(result, in_progress=False)
        if self.failures and self.mode == PrComment.ALWAYS:
            _fail(result, self.failures[0])
        elif self.failures:
            result.notes.append(" ".join(filter(None, self.failures[0])))

    def _safely(self, result: RunResult, *, in_progress: bool) -> None:
        if not self.info.bundle_id:  # resumed builds: their own bundle id
            bundles = sorted({b.bundle_id for b in result.builds if b.bundle_id})
            self.info = replace(self.info, bundle_id=bundles[0] if bundles else "")
        self.info = replace(self.info, platforms=tuple(result.platforms))
        with self.io.group(TITLE):
            try:
                if self._living_target() is not None:
                    body = render.render_living(
                        result, self.ctx, self.info, in_progress=in_progress
                    )
                    self._write(render.LIVING, body)
                else:
                    body = render.render_released(result, self.ctx, self.info)
                    self._write(render.RELEASED, body)
            except Exception as err:  # a comment must never end the run with a traceback
                self._failed(CommentError(f"unexpected {type(err).__name__}"))

    def _release_target(self) -> bool:
        return self.mode != "never" and self.ctx.release_path

    def _living_target(self) -> int | None:
        ctx = self.ctx
        if self.mode == PrComment.NEVER or ctx.event_name not in PULL_REQUEST_EVENTS:
            return None
        return None if ctx.release_path else ctx.pull_request

    def _write(self, kind: str, body: str) -> None:
        number = self.ctx.pull_request
        if number is None or self._given_up:
            return
        try:
            sync = self._sync or self._connect()
            key = render.marker(kind, self.info.bundle_id, self.info.platforms)
            written = sync.write(number, key, body)
        except CommentError as err:
            self._failed(err, number)
            return
        what = "comment" if kind == render.LIVING else "released-in note"
        self.io.info(f"Pull request #{number}: {what} {written}.")

    def _connect(self) -> CommentSync:
        ctx = self.ctx
        if ctx.event_name == "pull_request" and ctx.from_fork:
            raise CommentError(FORK_REASON, hint=FORK_HINT, forbidden=True)
        if not self.token.strip():
            raise CommentError("`github-token` is empty", hint=PERMISSION_HINT, forbidden=True)
        if not ctx.repository:
            raise CommentError("GITHUB_REPOSITORY is not set", forbidden=True)
        github = self.connect(ctx.api_url, self.token)
        self._sync = CommentSync(github, ctx.repository, token=self.token, api_url=ctx.api_url)
        return self._sync

    def _failed(self, err: CommentError, number: int | None = None) -> None:
        where = f"on pull request #{number}" if number else "on the pull request"
        failure = (f"Could not write the comment {where}: {err.reason}.", err.hint)
        self._given_up = self._given_up or err.forbidden
        text = " ".join(filter(None, failure))
        if self.mode == PrComment.ALWAYS or self.failures:
            self.io.info(text)  # `always`: the error annotation comes with the report
        else:
            self.io.warning(text, TITLE)  # one warning per run is enough
        self.failures.append(failure)


def _fail(result: RunResult, failure: tuple[str, str]) -> None:
    """Fail a run that would have succeeded; a run that failed already keeps its own error
    (the reason a reader must see first) and gets the comment's failure as a note."""
    message, hint = failure
    if result.error is not None or result.status not in (RunStatus.SUCCESS, RunStatus.CREATED):
        result.notes.append(message)
        return
    result.error = ActionError(message, hint=hint, title=TITLE)
    result.status = RunStatus.FAILED
