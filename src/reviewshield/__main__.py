from reviewshield.cli import main

main()
