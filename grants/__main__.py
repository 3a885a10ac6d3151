from grants.cli import main

main()
