"""The log: `logs/labrunner.log` under the state dir, and one file per lab
(`logs/<lab>.log`, the session's own story); `--verbose` also prints on stderr.

`logging` is imported on first use, not at start-up (`labrunner check` stays quick).
"""

from __future__ import annotations

from labrunner import paths

_verbose = False


def setup(verbose: bool) -> None:
    global _verbose
    _verbose = verbose


def _file_handler(logger, name: str) -> None:
    """(Re)attach a file handler in the current state dir (it moves with LABRUNNER_HOME)."""
    import logging

    path = paths.state_dir() / "logs" / name
    for handler in list(logger.handlers):
        if isinstance(handler, logging.FileHandler):
            if handler.baseFilename == str(path):
                return
            logger.removeHandler(handler)
            handler.close()
    path.parent.mkdir(exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)


def root():
    import logging

    logger = logging.getLogger("labrunner")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    _file_handler(logger, "labrunner.log")
    streams = [h for h in logger.handlers if type(h) is logging.StreamHandler]
    if _verbose and not streams:
        console = logging.StreamHandler()
        console.setFormatter(logging.Formatter("labrunner: %(message)s"))
        logger.addHandler(console)
    elif not _verbose:
        for handler in streams:
            logger.removeHandler(handler)
    return logger


def for_lab(lab_id: str):
    logger = root().getChild(lab_id)
    _file_handler(logger, f"{lab_id}.log")
    return logger
