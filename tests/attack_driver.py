"""Runs ``digest`` commands one after another in one long-lived process, for tests/test_attack_corpus.py.

A hundred small config builds would spend most of their time starting Python and importing WeasyPrint; this
process starts once and then takes one command per line on stdin (a JSON list of arguments) and answers one line
on stdout (JSON: exit code, stdout, stderr). The command goes through the command-line layer itself (Typer's
test runner invoking ``digest.cli.app.app``): the same option parsing, error mapping and exit codes as the
``digest`` program. An exception that escapes the command is written to stderr as the traceback Python would
have printed, so the caller judges both kinds of run the same way.
"""
from __future__ import annotations

import json
import sys
import traceback


def main() -> None:
    from typer.testing import CliRunner

    from digest.cli.app import app

    runner = CliRunner()
    for line in sys.stdin:
        argv = json.loads(line)
        result = runner.invoke(app, argv, catch_exceptions=True)
        err = result.stderr
        exc = result.exception
        if exc is not None and not isinstance(exc, SystemExit):
            err += "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        reply = {"code": result.exit_code, "stdout": result.stdout, "stderr": err}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
