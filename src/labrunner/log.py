"""The log: `logs/labrunner.log` under the state dir, and one file per lab
(`logs/<lab>.log`, the session's own story); `--verbose` also prints on stderr."""

from __future__ import annotations

import logging

from labrunner import paths

LOGGER = logging.getLogger("labrunner")
LOGGER.setLevel(logging.DEBUG)
LOGGER.propagate = False
FORMAT = logging.Formatter("%(asctime)s %(levelname)s %(message)s")


def _file_handler(logger: logging.Logger, name: str) -> None:
    """(Re)attach a file handler in the current state dir (it moves with LABRUNNER_HOME)."""
    path = paths.state_dir() / "logs" / name
    for handler in list(logger.handlers):
        if isinstance(handler, logging.FileHandler):
            if handler.baseFilename == str(path):
                return
            logger.removeHandler(handler)
            handler.close()
    path.parent.mkdir(exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8", delay=True)
    handler.setFormatter(FORMAT)
    logger.addHandler(handler)


def setup(verbose: bool) -> None:
    _file_handler(LOGGER, "labrunner.log")
    streams = [h for h in LOGGER.handlers if type(h) is logging.StreamHandler]
    if verbose and not streams:
        console = logging.StreamHandler()
        console.setFormatter(logging.Formatter("labrunner: %(message)s"))
        LOGGER.addHandler(console)
    elif not verbose:
        for handler in streams:
            LOGGER.removeHandler(handler)


def for_lab(lab_id: str) -> logging.Logger:
    logger = LOGGER.getChild(lab_id)
    _file_handler(logger, f"{lab_id}.log")
    return logger
