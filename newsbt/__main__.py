from newsbt.cli import main

main()
