"""What the pull request hears from a run (input ``pr-comment``).

- A ``pull_request`` / ``pull_request_target`` run keeps one living comment on its pull
  request: written when the builds are created ("building") and again at the end.
- A release run (a push of a merged pull request's merge commit, or the merged pull request's
  ``closed`` event) leaves one "released in" note on that pull request at the end.
- Any other run writes nothing.

``auto``: a token that may not write (403, a fork's read-only token, no token) gives one
warning and the step goes on. ``always``: any failure to write fails the step at the end.
``never``: nothing is written and the API is not asked.

Only the last write of each comment counts: a "building" write that failed does not matter once
the final write of the same comment succeeded. Transient failures are tried again (``Retrier``)
for ``COMMENT_PATIENCE`` seconds. The final write comes after the report (outputs, summary), so
a slow GitHub API never costs them; a failure found then is added to them (``report.amend``).
After a cancel the runner kills the container 7.5 s after its signal: the final write then gets
``CANCELLED_PATIENCE`` seconds and no retry.
"""

from __future__ import annotations

import threading
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
from capwrapper_action.report.report import amend
from capwrapper_action.result import RunResult, RunStatus

if TYPE_CHECKING:
    from capwrapper_action.config.settings import Config
    from capwrapper_action.retry import Retrier

COMMENT_PATIENCE = 20.0  # seconds a write rides out transient failures (5xx, timeouts, rate limits)
CANCELLED_PATIENCE = 2.0  # seconds for the final write of a cancelled run
TITLE = "Pull request comment"
FORK_REASON = "this run comes from a fork, and GitHub gives such runs a read-only token"
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
        config.pr_comment, info, config.github_token, read_event(env), io, connect,
        summary=config.summary,
    )


Failure = tuple[str, str]  # (what failed, what to do)


@dataclass
class PullRequestFeedback:
    """Writes the comments; ``builds_created`` from the pipeline, ``finish`` from ``main``
    after the report."""

    mode: PrComment
    info: render.CommentInfo
    token: str = field(repr=False)
    ctx: GitHubContext  # the event's; the pipeline passes the one enriched from the API
    io: ActionIO
    connect: GithubFactory  # (api_url, token) -> PyGithub client
    summary: bool = True  # input `summary`: a late failure is added to the job summary
    retrier: Retrier | None = None  # the run's (set by main); None: one try per write
    cancel_patience: float = CANCELLED_PATIENCE
    failures: dict[str, Failure] = field(default_factory=dict)  # per comment: its last write's
    _sync: CommentSync | None = None
    _given_up: bool = False  # after a refusal: no more tries in this run

    def builds_created(self, result: RunResult, ctx: GitHubContext) -> None:
        """The "building" comment on a pull request run."""
        self.ctx = ctx
        if self._living():
            with self.io.group(TITLE):
                self._safely(result, in_progress=True)

    def finish(self, result: RunResult, *, cancelled: bool = False) -> bool:
        """The final comment or note. A write that failed for good is added to the outputs
        and summary (``always``: it fails a run that had not failed); False if they were not."""
        failure: Failure | None = None
        if self._living() or self._release_target():
            with self.io.group(TITLE):
                if cancelled:
                    failure = self._bounded(result)
                else:
                    self._safely(result)
        failure = failure or next(iter(self.failures.values()), None)
        if failure is None:
            return True
        text = " ".join(filter(None, failure))
        if self.mode == PrComment.ALWAYS and _fail(result, failure):
            self.io.error(text, TITLE)
            title = f"{TITLE}: the step failed (pr-comment: always)"
            return amend(self.io, result, title, text, failed=True, summary=self.summary)
        if self.mode != PrComment.ALWAYS:
            result.notes.append(text)
        self.io.warning(text, TITLE)  # the one warning of the run
        return amend(self.io, result, TITLE, text, failed=False, summary=self.summary)

    def _bounded(self, result: RunResult) -> Failure | None:
        """The final write of a cancelled run, given ``cancel_patience`` seconds; one left
        hanging runs on in a daemon thread that dies with the container. None when it ended."""
        worker = threading.Thread(
            target=self._safely, args=(result,), name="pr-comment", daemon=True
        )
        worker.start()
        worker.join(self.cancel_patience)
        if not worker.is_alive():
            return None
        reason = (f"the run was cancelled, and the GitHub API had not answered within "
                  f"{self.cancel_patience:g} s")
        self.io.info(f"Left the pull request comment unwritten: {reason}.")
        return (f"Could not write the comment on the pull request: {reason}.", "")

    def _safely(self, result: RunResult, *, in_progress: bool = False) -> None:
        if not self.info.bundle_id:  # resumed builds: their own bundle id
            bundle_id = min((b.bundle_id for b in result.builds if b.bundle_id), default="")
            self.info = replace(self.info, bundle_id=bundle_id)
        self.info = replace(self.info, platforms=tuple(result.platforms))
        living = self._living()
        kind = render.LIVING if living else render.RELEASED
        key = render.marker(kind, self.info.bundle_id, self.info.platforms)
        try:
            if living:
                body = render.render_living(result, self.ctx, self.info, in_progress=in_progress)
            else:
                body = render.render_released(result, self.ctx, self.info)
            self._write(kind, key, body)
        except Exception as err:  # a comment must never end the run with a traceback
            self._failed(key, CommentError(f"unexpected {type(err).__name__}"))

    def _release_target(self) -> bool:
        return self.mode != PrComment.NEVER and self.ctx.release_path

    def _living(self) -> bool:
        ctx = self.ctx
        if self.mode == PrComment.NEVER or ctx.event_name not in PULL_REQUEST_EVENTS:
            return False
        return not ctx.release_path and ctx.pull_request is not None

    def _write(self, kind: str, key: str, body: str) -> None:
        number = self.ctx.pull_request
        if number is None or self._given_up:
            return
        retrier = self.retrier
        deadline = retrier.clock.now() + COMMENT_PATIENCE if retrier else None
        try:
            sync = self._sync or self._connect()
            written = sync.write(number, key, body, retrier=retrier, deadline=deadline)
        except CommentError as err:
            self._failed(key, err, number)
            return
        self.failures.pop(key, None)  # only the last write of a comment counts
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

    def _failed(self, key: str, err: CommentError, number: int | None = None) -> None:
        """Log it; the warning or error comes from ``finish`` if no later write of the same
        comment succeeds."""
        where = f"on pull request #{number}" if number else "on the pull request"
        failure = (f"Could not write the comment {where}: {err.reason}.", err.hint)
        self._given_up = self._given_up or err.forbidden
        self.io.info(" ".join(filter(None, failure)))
        self.failures[key] = failure


def _fail(result: RunResult, failure: Failure) -> bool:
    """Fail a run that would have succeeded (True); a run that failed already keeps its own
    error (the reason a reader must see first) and gets the comment's failure as a note."""
    message, hint = failure
    if result.error is not None or result.status not in (RunStatus.SUCCESS, RunStatus.CREATED):
        result.notes.append(message)
        return False
    result.error = ActionError(message, hint=hint, title=TITLE)
    result.status = RunStatus.FAILED
    return True
