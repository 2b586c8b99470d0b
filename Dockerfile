# The action's container image: the runtime package, its locked dependencies and the entry point,
# nothing else. Releases ship it prebuilt (ghcr.io, pinned by digest in the release's action.yml);
# main's action.yml still says `image: Dockerfile`, so a job using main, a fork or a commit SHA
# of main builds it here.
# Base: python:3.11.16-slim-bookworm (Debian 12), pinned to its multi-platform index digest;
# Dependabot proposes new digests (.github/dependabot.yml).
FROM python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

# A virtualenv without pip or setuptools: the base image's own pip installs into it (--python).
RUN python -m venv --without-pip /opt/venv

# Dependency layer first: it changes only when the lock does. requirements.txt is mounted for
# this step only, not copied. Every file is checked against the lock's hashes, only wheels are
# taken (nothing is compiled) and nothing outside the lock is installed. pip compiles the
# dependencies' bytecode as it installs them.
RUN --mount=type=bind,source=requirements.txt,target=/tmp/requirements.txt \
    pip --python /opt/venv/bin/python install --no-cache-dir --disable-pip-version-check \
      --require-hashes --no-deps --only-binary=:all: -r /tmp/requirements.txt

COPY entrypoint.py /opt/capwrapper/entrypoint.py
COPY capwrapper_action/ /opt/capwrapper/capwrapper_action/

# Bytecode, so that no start of the action compiles anything: the application's, then (by
# importing every module of the application once) that of each standard-library module it uses,
# which the base image ships as source only. The modules named last are imported only inside
# functions (PyGithub, requests' netrc lookup); the mirror test
# test_runs_of_the_action_compile_nothing_the_image_did_not names any that a run still compiles.
RUN python -m compileall -q /opt/capwrapper/capwrapper_action \
    && PYTHONDONTWRITEBYTECODE='' PYTHONPATH=/opt/capwrapper /opt/venv/bin/python -c "import importlib, pkgutil, capwrapper_action as app; [importlib.import_module(m.name) for m in pkgutil.walk_packages(app.__path__, 'capwrapper_action.')]; import github, netrc"

# No USER: GitHub runs container actions as root and mounts the workspace owned by the runner.
ENTRYPOINT ["/opt/venv/bin/python", "/opt/capwrapper/entrypoint.py"]
