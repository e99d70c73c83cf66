from reformatters.tools.entry import main

main()
