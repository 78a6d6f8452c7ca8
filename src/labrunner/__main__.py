from labrunner.cli import main

main()
