"""The exception tree. Every expected failure is an ``ActionError`` whose message says what
happened and whose ``hint`` says what to do about it; ``main`` turns it into an annotation,
a summary line and exit code 1 — never a traceback."""

from __future__ import annotations


class ActionError(Exception):
    title = "Capwrapper action failed"

    def __init__(self, message: str, *, hint: str = "", title: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if title is not None:
            self.title = title

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class ConfigError(ActionError):
    """An input is missing or malformed. Raised before any request is sent."""

    title = "Invalid input"

    def __init__(self, input_name: str, problem: str, example: str) -> None:
        message = f"Input '{input_name}': {problem}"
        hint = f"Example of a valid value: {example}" if example else ""
        super().__init__(message, hint=hint, title=f"Invalid input: {input_name}")
        self.input_name = input_name
        self.problem = problem
        self.example = example


class CancelledError(ActionError):
    """The runner asked the step to stop (SIGINT/SIGTERM). ``made`` holds a build found to
    exist after a create that the signal interrupted."""

    title = "Cancelled"
    made: object = None
    before_send = False  # raised before the request went out: nothing can have been made


class DownloadError(ActionError):
    title = "Download failed"


class ResultFileError(ActionError):
    """The step outputs or the job summary file could not be written (a full disk)."""


class ApiError(ActionError):
    """The Capwrapper API answered with an error, or could not be reached."""

    title = "Capwrapper API error"
    default_hint = ""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        error_code: str | None = None,
        method: str = "",
        path: str = "",
        retry_after: float | None = None,
        hint: str | None = None,
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(message, hint=self.default_hint if hint is None else hint)
        # For a create (POST): True when the server may have acted although no success came
        # back (answer lost, read timeout, 5xx); False when it surely did not act.
        self.outcome_unknown = outcome_unknown
        self.status_code = status_code
        self.error_code = error_code
        self.method = method
        self.path = path
        self.retry_after = retry_after


class BadRequestError(ApiError):
    title = "Capwrapper rejected the request (400)"
    default_hint = "Check the inputs named in the message against the Capwrapper API docs."


class AuthError(ApiError):
    title = "Capwrapper API key rejected (401)"
    default_hint = (
        "Check the secret passed as 'api-key': it must hold a key from the Capwrapper dashboard "
        "(Settings > API Keys) and be available to this workflow."
    )


class NotFoundError(ApiError):
    title = "Not found on Capwrapper (404)"
    default_hint = "Check the build id and that 'api-url' points at the right API (…/v1)."


class RateLimitedError(ApiError):
    title = "Capwrapper rate limit (429)"
    default_hint = (
        "The API key's rate limit stayed exhausted for as long as the action waits it out; "
        "parallel jobs share it. Use fewer parallel jobs, a larger fixed 'poll-interval', or "
        "retry later."
    )


class ServerError(ApiError):
    title = "Capwrapper server error"
    default_hint = "Capwrapper or a proxy in front of it failed; re-run the job later."


class NetworkError(ApiError):
    """No answer: connection refused or reset, DNS failure, or a read timeout."""

    title = "Capwrapper API unreachable"
    default_hint = "Check 'api-url' and the runner's network; re-run the job if it was transient."


class UnexpectedResponseError(ApiError):
    """The answer was not the JSON the docs describe."""

    title = "Unexpected answer from Capwrapper"
    default_hint = "Check that 'api-url' points at the Capwrapper API (…/v1)."


class GarbledResponseError(UnexpectedResponseError):
    """The body was not JSON at all (a maintenance page, a cut-off answer): likely transient,
    unlike JSON of the wrong shape."""
