# The action's container image. GitHub builds it in every job that uses the action.
# Base: python:3.11.16-slim-bookworm (Debian 12), pinned to its multi-platform index digest;
# Dependabot proposes new digests (.github/dependabot.yml).
FROM python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN python -m venv /opt/venv

# Dependency layer first: it changes only when the lock does. Every file is checked against the
# hashes in requirements.txt, and nothing outside that list is installed.
COPY requirements.txt /opt/capwrapper/requirements.txt
RUN /opt/venv/bin/pip install --no-cache-dir --require-hashes --no-deps -r /opt/capwrapper/requirements.txt

COPY entrypoint.py /opt/capwrapper/entrypoint.py
COPY capwrapper_action/ /opt/capwrapper/capwrapper_action/

# No USER: GitHub runs container actions as root and mounts the workspace owned by the runner.
ENTRYPOINT ["/opt/venv/bin/python", "/opt/capwrapper/entrypoint.py"]
