"""The log: `logs/labrunner.log` under the state dir, and one file per lab
(`logs/<lab>.log`, the session's own story); `--verbose` also prints on stderr.

Log files are 0600 in the private state folder. Logging never stops labrunner: on a
read-only or full disk a record is dropped, not raised (nor printed as a traceback).

`logging` is imported on first use, not at start-up (`labrunner check` stays quick).
"""

from __future__ import annotations

import os

from labrunner import paths

_verbose = False
_handler_class = None


def setup(verbose: bool) -> None:
    global _verbose
    _verbose = verbose


def _quiet_file_handler():
    """A FileHandler that creates its file 0600 and swallows every error of its own."""
    global _handler_class
    if _handler_class is None:
        import logging

        class QuietFileHandler(logging.FileHandler):
            def _open(self):
                fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, paths.PRIVATE_FILE)
                return open(fd, self.mode, encoding=self.encoding, errors=self.errors)

            def emit(self, record):
                try:
                    super().emit(record)
                except Exception:       # noqa: BLE001 - a log line is never worth a crash
                    pass

            def handleError(self, record):      # noqa: N802 - logging's own name
                pass                            # never a "--- Logging error ---" traceback

        _handler_class = QuietFileHandler
    return _handler_class


def _file_handler(logger, name: str) -> None:
    """(Re)attach a file handler in the current state dir (it moves with LABRUNNER_HOME).
    Without a writable state dir the logger simply has no file."""
    import logging

    try:
        path = paths.private_dir(paths.state_dir() / "logs") / name
    except paths.FolderNotWritable:
        path = None
    for handler in list(logger.handlers):
        if isinstance(handler, logging.FileHandler):
            if path is not None and handler.baseFilename == str(path):
                return
            logger.removeHandler(handler)
            handler.close()
    if path is None:
        return
    handler = _quiet_file_handler()(path, encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)


def root():
    import logging

    logger = logging.getLogger("labrunner")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())    # no file: records vanish, never on stderr
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
