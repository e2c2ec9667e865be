"""The command line's root: the Typer app, its own flags and help, and `invoke`, which runs
it on an argv and turns the framework's errors into orderreport's. The commands register
themselves on `app` in app.py (entry.py imports that, then calls `invoke`)."""

import copy
import os
import signal
import sys

import typer

from orderreport.cli import console, params
from orderreport.errors import EXIT_CODES, EXIT_OK, EXIT_USAGE, Terminated, UsageError

EXIT_CODES_HELP = "\n".join(f"  {code:<4} {text}" for code, text in EXIT_CODES.items())
EXAMPLES = """\
  orderreport demo                          sample shop on the embedded database
  orderreport migrate                       apply the schema to the configured database
  orderreport report --date 2025-12-16      per-order rows of one day
  orderreport summary --from 2025-12-01     one summary per day up to yesterday
  orderreport daily                         store the days since the last run
  orderreport verify                        compare stored reports with live data
  orderreport runs                          the daily job's recent runs
  orderreport history --format csv          the stored daily reports
  orderreport digest --format html          how yesterday went, as one page
  orderreport status --max-lag 1            health probe: exit 1 when behind
  orderreport platforms saleor              the Saleor preset, to copy and adapt
  orderreport grants --reports analyst      the GRANTs a reporting role needs"""

app = typer.Typer(
    name="orderreport",
    help=(
        "Exact daily order reports from a shop's PostgreSQL database.\n\n"
        "Days are calendar days in the shop's time zone (--tz). With no database configured, "
        "orderreport runs its own embedded PostgreSQL.\n\n"
        f"\b\nExamples:\n{EXAMPLES}\n\n"
        f"\b\nExit codes:\n{EXIT_CODES_HELP}"
    ),
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def invoke(argv: list[str] | None) -> int:
    """The app run on `argv`: its exit code; the framework's own errors (an unknown flag,
    a bad value) raised as orderreport's UsageError with their exit code (2)."""
    argv = params.arranged(sys.argv[1:] if argv is None else argv)
    command = typer.main.get_command(_app_for(argv))
    try:
        code = command.main(args=argv, prog_name="orderreport", standalone_mode=False)
    except typer.TyperException as exc:
        error = UsageError(exc.format_message())
        error.exit_code = exc.exit_code or EXIT_USAGE
        raise error from None
    except typer.Abort:  # EOF on stdin: nothing of ours reads it, but be exact
        raise Terminated(signal.SIGINT) from None
    for warning in console.warnings():
        console.say(warning)
    return code if isinstance(code, int) else EXIT_OK


def _app_for(argv: list[str]) -> typer.Typer:
    """The app, or where `argv` names a command, the app with that command alone: Typer
    builds every command it holds (a fiftieth of a second for all of them), and a run
    parses only its own. What the run sees is the same: the root's flags, the command's
    flags, help and errors (the list of commands is shown only by the root's help, and a
    mistyped command name, or completion, gets the whole app)."""
    root_flags = next((i for i, t in enumerate(argv) if t not in params.ROOT_FLAGS), len(argv))
    wanted = argv[root_flags] if len(argv) > root_flags else None
    if wanted is None or f"_{app.info.name}_COMPLETE".upper() in os.environ:
        return app
    named = [
        c
        for c in app.registered_commands
        if c.callback is not None
        and (c.name or typer.main.get_command_name(c.callback.__name__)) == wanted
    ]
    if len(named) != 1:
        return app
    only = copy.copy(app)
    only.registered_commands = named
    return only


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context, version: params.VersionFlag = False, verbose: params.VerboseFlag = False
) -> None:
    """Exact daily order reports from a shop's PostgreSQL database."""
    console.set_verbose(verbose)
    if ctx.invoked_subcommand is None:
        if verbose:
            raise UsageError("Missing command.")
        typer.echo(ctx.get_help(), err=True, color=ctx.color)  # a bare `orderreport`
        raise typer.Exit(EXIT_USAGE)


# -- commands ----------------------------------------------------------------------------
