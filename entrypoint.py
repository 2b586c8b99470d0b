"""Entry point of the container action (see Dockerfile's ENTRYPOINT)."""

from capwrapper_action.main import main

if __name__ == "__main__":
    raise SystemExit(main())
