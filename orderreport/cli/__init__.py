"""The command line, the only package that imports Typer: parse, call the core, render.
app.py holds the commands, params.py the flags, console.py stderr, dates.py the dates a
user types, notes.py the titles and footers of what is printed. Nothing imports it but
entry.py (the process runtime). Re-exports nothing: importing it loads nothing."""
