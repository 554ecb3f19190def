"""`python -m mockgc.cli`: the `mockgc` command."""

from mockgc.cli import main

main()
