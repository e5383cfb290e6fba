"""`python -m bot.cli`: the same as `palabre`."""

from bot.cli import main

main()
