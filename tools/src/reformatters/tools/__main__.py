from reformatters.tools.cli import main

main()
