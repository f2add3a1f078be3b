"""`python -m sim` is the `escalation` command."""

from sim.cli import main

main()
